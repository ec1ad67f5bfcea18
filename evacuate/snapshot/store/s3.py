"""A store in an S3 bucket (AWS or any S3-compatible provider via ``endpoint_url``).

The only module of evacuate that imports boto3/botocore. Credentials come from the
standard chain (environment, ``~/.aws/credentials`` and ``config``, a named profile,
instance metadata); evacuate never takes or prints them. Objects are written with
one PUT, or as a multipart upload of ``part_size`` parts that is aborted on any
failure, so an object is either complete or absent. botocore retries each request
(standard mode) with connect/read timeouts; what still fails becomes a one-line
StoreError. Everything handed to this store must already be encrypted (it is not on
the controller's disk: ``on_controller = False``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.exceptions as boto_errors
from botocore.config import Config

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.store.base import ObjectInfo, ObjectMissing, Store, check_key, check_prefix
from evacuate.snapshot.store.url import StoreURL

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PARTS = 10_000
READ_CHUNK = MiB
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_HINTS = {
    "InvalidAccessKeyId": "check the S3 credentials (AWS_ACCESS_KEY_ID, ~/.aws/credentials)",
    "SignatureDoesNotMatch": "check the S3 secret key (AWS_SECRET_ACCESS_KEY)",
    "AccessDenied": "the credentials lack permission on this bucket or prefix",
    "NoSuchBucket": "create the bucket first (or initialise the store with create)",
}
T = TypeVar("T")


def _public_url(endpoint_url: str) -> str:
    """Drop any user:password@ from an endpoint URL before showing it."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class S3Store(Store):
    """Objects below ``prefix`` in ``bucket``."""

    on_controller = False

    def __init__(self, url: str | StoreURL, *, endpoint_url: str | None = None, region: str | None = None,
                 profile: str | None = None, multipart_threshold: int = 64 * MiB,
                 part_size: int = 16 * MiB, page_size: int = 1000, max_attempts: int = 5,
                 connect_timeout: float = 10.0, read_timeout: float = 60.0) -> None:
        location = StoreURL.parse(url) if isinstance(url, str) else url
        if not location.is_s3:
            raise ConfigError(f"not an S3 store URL: {str(location)!r}: expected s3://bucket/prefix")
        self.bucket, self.prefix = location.bucket, location.prefix
        if part_size < MIN_PART_SIZE:
            raise ConfigError(f"S3 part size must be at least {MIN_PART_SIZE} bytes")
        self.endpoint_url = endpoint_url
        self.multipart_threshold = max(multipart_threshold, 0)
        self.part_size = part_size
        self.page_size = max(1, min(page_size, 1000))
        config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            # Many S3-compatible providers reject the newer default checksum headers;
            # integrity is ours anyway (AEAD / sha256 on every blob).
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            session = boto3.session.Session(profile_name=profile, region_name=region)
            self._client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)
        except boto_errors.ProfileNotFound:
            raise ConfigError(f"AWS profile {profile!r} not found") from None
        except (boto_errors.BotoCoreError, ValueError) as err:
            raise ConfigError(f"cannot set up S3 store {url}: {_one_line(err)}") from None

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}"
        return f"{where} at {_public_url(self.endpoint_url)}" if self.endpoint_url else where

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error(self, action: str, key: str, err: Exception) -> StoreError:
        where = f"{self.describe()}: cannot {action} {key}"
        if isinstance(err, boto_errors.ClientError):
            info = err.response.get("Error", {})
            code = str(info.get("Code") or "error")
            message = _one_line(info.get("Message") or "")
            return StoreError(f"{where}: {code}" + (f" ({message})" if message else ""),
                              hint=_HINTS.get(code))
        if isinstance(err, boto_errors.NoCredentialsError):
            return StoreError(f"{where}: no S3 credentials found",
                              hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                                   "~/.aws/credentials or AWS_PROFILE")
        if isinstance(err, boto_errors.EndpointConnectionError | boto_errors.ConnectTimeoutError):
            return StoreError(f"{where}: cannot connect to the endpoint")
        if isinstance(err, boto_errors.ReadTimeoutError):
            return StoreError(f"{where}: the endpoint did not answer in time")
        return StoreError(f"{where}: {type(err).__name__}: {_one_line(err)}")

    def _call(self, action: str, key: str, function: Callable[..., T], **kwargs: Any) -> T:
        try:
            return function(**kwargs)
        except (boto_errors.BotoCoreError, boto_errors.ClientError) as err:
            raise self._error(action, key, err) from None

    def init(self, *, create: bool = False) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except boto_errors.ClientError as err:
            if _code(err) not in _NOT_FOUND | {"NoSuchBucket"} or not create:
                if _code(err) in _NOT_FOUND:
                    raise StoreError(f"{self.describe()}: bucket {self.bucket} does not exist",
                                     hint=_HINTS["NoSuchBucket"]) from None
                raise self._error("open", "the bucket", err) from None
        except boto_errors.BotoCoreError as err:
            raise self._error("open", "the bucket", err) from None
        options: dict[str, Any] = {"Bucket": self.bucket}
        region = self._client.meta.region_name
        if region and region not in ("us-east-1", "aws-global") and not self.endpoint_url:
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self._call("create bucket", self.bucket, self._client.create_bucket, **options)

    def put(self, key: str, stream: BinaryIO, *, size_hint: int | None = None) -> None:
        name = self._name(check_key(key))
        length = _length_from_start(stream)
        if length is not None and length <= self.multipart_threshold:
            # A file at its start: botocore streams it and rewinds it for retries.
            self._call("write", key, self._client.put_object, Bucket=self.bucket, Key=name,
                       Body=stream, ContentLength=length)
            return
        first = _read_part(stream, self.part_size)
        if len(first) < self.part_size:
            self._call("write", key, self._client.put_object, Bucket=self.bucket, Key=name,
                       Body=first)
            return
        self._put_multipart(key, name, first, stream)

    def _put_multipart(self, key: str, name: str, first: bytes, stream: BinaryIO) -> None:
        upload = self._call("write", key, self._client.create_multipart_upload,
                            Bucket=self.bucket, Key=name)
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            data, number = first, 1
            while data:
                if number > MAX_PARTS:
                    raise StoreError(f"{self.describe()}: cannot write {key}: "
                                     f"more than {MAX_PARTS} parts")
                answer = self._call("write", key, self._client.upload_part, Bucket=self.bucket,
                                    Key=name, UploadId=upload_id, PartNumber=number, Body=data)
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
                number += 1
                # Grow parts for huge objects so 10,000 parts always suffice.
                data = _read_part(stream, self.part_size * 2 ** ((number - 1) // 1000))
            self._call("write", key, self._client.complete_multipart_upload,
                       Bucket=self.bucket, Key=name, UploadId=upload_id,
                       MultipartUpload={"Parts": parts})
        except BaseException:
            # Best effort: an upload that cannot be aborted now stays invisible (S3 shows
            # only completed objects) until a lifecycle rule or a later abort removes it.
            with contextlib.suppress(Exception):
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=name,
                                                    UploadId=upload_id)
            raise

    def remove_leftovers(self, older_than: float) -> int:
        return self.abort_incomplete_uploads(initiated_before=older_than)

    def abort_incomplete_uploads(self, initiated_before: float | None = None) -> int:
        """Abort every unfinished multipart upload below the prefix (left by uploads that
        could not even be aborted, e.g. when the endpoint went away), or only those
        initiated before ``initiated_before``; return how many. Without a time, call only
        when no other writer is uploading to this prefix."""
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self._client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=base)
        aborted = 0
        try:
            for page in pages:
                for upload in page.get("Uploads", []):
                    started = upload.get("Initiated")
                    if initiated_before is not None and started is not None and \
                            started.timestamp() >= initiated_before:
                        continue  # maybe a snapshot being taken right now
                    self._client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                        UploadId=upload["UploadId"])
                    aborted += 1
        except (boto_errors.BotoCoreError, boto_errors.ClientError) as err:
            raise self._error("clean up", "incomplete uploads", err) from None
        return aborted

    def get(self, key: str) -> BinaryIO:
        name = self._name(check_key(key))
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=name)
        except boto_errors.ClientError as err:
            if _code(err) in _NOT_FOUND:
                raise ObjectMissing(f"{self.describe()}: no object {key}") from None
            raise self._error("read", key, err) from None
        except boto_errors.BotoCoreError as err:
            raise self._error("read", key, err) from None
        return io.BufferedReader(_BodyReader(self, key, answer["Body"]), buffer_size=READ_CHUNK)

    def stat(self, key: str) -> ObjectInfo | None:
        name = self._name(check_key(key))
        try:
            answer = self._client.head_object(Bucket=self.bucket, Key=name)
        except boto_errors.ClientError as err:
            if _code(err) in _NOT_FOUND:
                return None
            raise self._error("stat", key, err) from None
        except boto_errors.BotoCoreError as err:
            raise self._error("stat", key, err) from None
        return ObjectInfo(key, int(answer["ContentLength"]), answer["LastModified"].timestamp())

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base + prefix,
            PaginationConfig={"PageSize": self.page_size})
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(base):]
        except (boto_errors.BotoCoreError, boto_errors.ClientError) as err:
            raise self._error("list", prefix or "/", err) from None

    def delete(self, key: str) -> None:
        name = self._name(check_key(key))
        self._call("delete", key, self._client.delete_object, Bucket=self.bucket, Key=name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()


class _BodyReader(io.RawIOBase):
    """A raw reader over a botocore StreamingBody whose failures are StoreErrors."""

    def __init__(self, store: S3Store, key: str, body: Any) -> None:
        super().__init__()
        self._store, self._key, self._body = store, key, body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._body.read(len(buffer))
        except Exception as err:  # botocore, urllib3 and socket errors alike
            raise self._store._error("read", self._key, err) from None
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._body.close()
        super().close()


def _code(err: boto_errors.ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _length_from_start(stream: BinaryIO) -> int | None:
    """Return the size of a seekable stream positioned at its start, else None."""
    try:
        if not stream.seekable() or stream.tell() != 0:
            return None
        length = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        return length
    except (AttributeError, OSError, ValueError):
        return None


def _read_part(stream: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes (fewer only at the end); source errors propagate."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(READ_CHUNK, size - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)
