"""What only the S3 store has: multipart uploads, credentials, an endpoint that goes away.
Against a real S3 server (SeaweedFS, which checks SigV4 signatures), not a mock."""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.crypto import Cipher
from evacuate.snapshot.store import BlobStore, open_store
from evacuate.snapshot.store.s3 import S3Store

from .conftest import BUCKET, SMALL_PART
from .seaweed import SeaweedFS
from .test_conformance import GeneratedStream, SourceFailed, digest_of, expected

MiB = 1024 * 1024
S3Factory = Callable[..., S3Store]


def raw_client(server: SeaweedFS) -> Any:
    env = server.env()
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


class StopsServer(GeneratedStream):
    """A source that stops the S3 server once ``after`` bytes have been read."""

    def __init__(self, size: int, server: SeaweedFS, after: int) -> None:
        super().__init__(size)
        self.server, self.after = server, after

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.sent >= self.after and self.server.process is not None:
            self.server.stop()
        return super().readinto(buffer)


def test_large_objects_go_multipart(seaweedfs: SeaweedFS, s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(seaweedfs)
    size = 3 * SMALL_PART + 1
    store.put("big", io.BufferedReader(GeneratedStream(size)))
    head = raw_client(seaweedfs).head_object(Bucket=BUCKET, Key=f"{store.prefix}/big")
    assert head["ETag"].strip('"').endswith("-4")  # four parts
    with store.get("big") as reader:
        assert digest_of(reader) == expected(size)


def test_failed_multipart_is_aborted(seaweedfs: SeaweedFS, s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(seaweedfs)
    with pytest.raises(SourceFailed):
        store.put("broken", io.BufferedReader(
            GeneratedStream(4 * SMALL_PART, fail_after=2 * SMALL_PART)))
    uploads = raw_client(seaweedfs).list_multipart_uploads(Bucket=BUCKET,
                                                           Prefix=store.prefix)
    assert uploads.get("Uploads", []) == []


def test_endpoint_stopped_mid_upload(fresh_seaweedfs: SeaweedFS,
                                     s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(fresh_seaweedfs, max_attempts=2, connect_timeout=2.0)
    source = StopsServer(4 * SMALL_PART, fresh_seaweedfs, after=2 * SMALL_PART)
    with pytest.raises(StoreError) as caught:
        store.put("interrupted", io.BufferedReader(source))
    message = str(caught.value)
    assert "\n" not in message and store.describe() in message and "interrupted" in message
    assert "Traceback" not in message and fresh_seaweedfs.secret_key not in message

    fresh_seaweedfs.start()
    assert store.stat("interrupted") is None
    assert list(store.list()) == []
    store.put("interrupted", io.BufferedReader(GeneratedStream(2 * SMALL_PART + 1)))
    with store.get("interrupted") as reader:
        assert digest_of(reader) == expected(2 * SMALL_PART + 1)


def test_endpoint_down_during_blob_upload_leaves_store_consistent(
        fresh_seaweedfs: SeaweedFS, s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(fresh_seaweedfs, max_attempts=2, connect_timeout=2.0)
    blobs = BlobStore(store, Cipher(os.urandom(32)))
    kept = blobs.put_bytes(b"written before the outage")
    fresh_seaweedfs.stop()
    with pytest.raises(StoreError):
        blobs.put_bytes(b"x" * (3 * MiB))
    fresh_seaweedfs.start()
    assert blobs.check(kept, read_data=True) is None
    assert len(list(blobs.list_keys())) == 1
    ref = blobs.put_bytes(b"x" * (3 * MiB))  # the retried snapshot succeeds
    assert blobs.check(ref, read_data=True) is None


def test_unreachable_endpoint_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                          seaweedfs: SeaweedFS) -> None:
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    store = S3Store(f"s3://{BUCKET}/x", endpoint_url="http://127.0.0.1:9", max_attempts=1,
                    connect_timeout=1.0)
    with pytest.raises(StoreError, match="cannot connect") as caught:
        store.put_bytes("key", b"data")
    assert "\n" not in str(caught.value) and "127.0.0.1:9" in str(caught.value)


def test_wrong_secret_key_is_refused_without_leaking_it(
        monkeypatch: pytest.MonkeyPatch, seaweedfs: SeaweedFS) -> None:
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
    store = S3Store(f"s3://{BUCKET}/x", endpoint_url=seaweedfs.endpoint, max_attempts=1)
    with pytest.raises(StoreError, match="SignatureDoesNotMatch") as caught:
        store.put_bytes("key", b"data")
    assert "wrong-secret-value" not in str(caught.value)
    assert caught.value.hint and "secret" in caught.value.hint


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                        seaweedfs: SeaweedFS) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3Store(f"s3://{BUCKET}/x", endpoint_url=seaweedfs.endpoint, max_attempts=1)
    with pytest.raises(StoreError, match="no S3 credentials"):
        store.stat("key")


def test_credentials_from_a_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                    seaweedfs: SeaweedFS) -> None:
    env = seaweedfs.env()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[backup]\naws_access_key_id = {env['AWS_ACCESS_KEY_ID']}\n"
                           f"aws_secret_access_key = {env['AWS_SECRET_ACCESS_KEY']}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    store = open_store(f"s3://{BUCKET}/profiled", endpoint_url=seaweedfs.endpoint,
                       profile="backup")
    store.put_bytes("key", b"via profile")
    assert store.get_bytes("key") == b"via profile"
    with pytest.raises(ConfigError, match="profile"):
        S3Store(f"s3://{BUCKET}/x", profile="no-such-profile")


def test_missing_bucket(seaweedfs: SeaweedFS, s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(seaweedfs)  # sets the credentials
    missing = S3Store("s3://no-such-bucket-here/x", endpoint_url=seaweedfs.endpoint,
                      max_attempts=1)
    with pytest.raises(StoreError, match="does not exist"):
        missing.init()
    created = S3Store("s3://created-by-init/x", endpoint_url=seaweedfs.endpoint)
    created.init(create=True)
    created.put_bytes("k", b"v")
    assert created.get_bytes("k") == b"v"
    assert store.describe().startswith(f"s3://{BUCKET}/t-")


def test_plaintext_never_reaches_the_server_disk(seaweedfs: SeaweedFS,
                                                 s3_store_factory: S3Factory) -> None:
    marker = b"SERVER-DISK-MARKER-" + os.urandom(8).hex().encode()
    blobs = BlobStore(s3_store_factory(seaweedfs), Cipher(os.urandom(32)))
    ref = blobs.put_bytes(marker * 1000)
    blobs.put_document("snapshots/s.json", marker)
    for path in (seaweedfs.workdir / "data").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert marker not in content, path
            assert ref.sha256.encode() not in content, path


def test_endpoint_killed_mid_download(fresh_seaweedfs: SeaweedFS,
                                      s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(fresh_seaweedfs, max_attempts=1, read_timeout=5.0)
    store.put("big", io.BufferedReader(GeneratedStream(40 * MiB)))
    with pytest.raises(StoreError) as caught, store.get("big") as reader:
        reader.read(MiB)
        fresh_seaweedfs.stop(signal.SIGKILL)
        while reader.read(MiB):
            pass
    message = str(caught.value)
    assert "\n" not in message and "big" in message and store.describe() in message


def test_incomplete_uploads_can_be_cleaned(fresh_seaweedfs: SeaweedFS,
                                           s3_store_factory: S3Factory) -> None:
    store = s3_store_factory(fresh_seaweedfs, max_attempts=1, connect_timeout=2.0)
    source = StopsServer(4 * SMALL_PART, fresh_seaweedfs, after=2 * SMALL_PART)
    with pytest.raises(StoreError) as caught:
        store.put("interrupted", io.BufferedReader(source))
    assert "cannot connect" in str(caught.value)
    fresh_seaweedfs.start()
    # an upload started after the horizon may be a snapshot being taken: it stays
    assert store.remove_leftovers(older_than=time.time() - 3600) == 0
    # the abort during the outage failed: the upload is there, and older than "in a minute"
    assert store.remove_leftovers(older_than=time.time() + 60) == 1
    uploads = raw_client(fresh_seaweedfs).list_multipart_uploads(Bucket=BUCKET,
                                                                 Prefix=store.prefix)
    assert uploads.get("Uploads", []) == []
