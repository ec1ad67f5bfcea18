"""Where a snapshot store is: the one parser of store URLs, for evacuate.yml's
``store.url``, ``--store`` and the store factory alike.

Accepted: a directory (``/var/backups/evacuate``, ``~/backups``, ``relative/dir``), a
``file:///path`` URL (``file://localhost/path`` too; %-escapes decoded) and
``s3://bucket[/prefix]`` (the scheme in any case; a bucket name of 3-63 characters a-z,
0-9, '.' and '-', starting and ending with a letter or digit, without '..'; a prefix that is
a valid store key). Anything else is a one-line ConfigError saying what is wrong.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from evacuate.errors import ConfigError, StoreError
from evacuate.snapshot.store.base import check_prefix

EXPECTED = "expected a directory, file:///path or s3://bucket/prefix"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store location: a local directory (``path``) or an S3 ``bucket`` with a
    key ``prefix`` ('' or keys without leading/trailing '/')."""

    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def is_s3(self) -> bool:
        return self.path is None

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @classmethod
    def parse(cls, text: str) -> StoreURL:
        """Parse ``text``; raise ConfigError (one line) when it is not a store URL."""
        if not text or not text.strip():
            raise ConfigError(f"no store given: {EXPECTED}")
        scheme = _SCHEME.match(text)
        if scheme is None:
            return cls(path=Path(text).expanduser())
        name = scheme.group(1).lower()
        if any(ord(c) < 32 or ord(c) == 127 for c in text):  # urlsplit would drop them
            raise ConfigError(f"invalid store URL {_shown(text)}: it holds control characters")
        if name == "s3":
            return cls._s3(text)
        if name == "file":
            return cls._file(text)
        raise ConfigError(f"unsupported store URL {_shown(text)} (scheme {name!r}): {EXPECTED}")

    @classmethod
    def _s3(cls, text: str) -> StoreURL:
        parts = urlsplit(text)
        if not parts.netloc or parts.query or parts.fragment or "?" in text or "#" in text:
            raise ConfigError(f"invalid S3 store URL {_shown(text)}: expected s3://bucket/prefix")
        bucket = parts.netloc
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ConfigError(f"invalid S3 bucket name {_shown(bucket)} in {_shown(text)}: "
                              "3-63 characters a-z, 0-9, '.' and '-'")
        prefix = parts.path.strip("/")
        try:
            check_prefix(prefix)
        except StoreError:
            raise ConfigError(f"invalid S3 prefix {_shown(prefix)} in {_shown(text)}") from None
        return cls(bucket=bucket, prefix=prefix)

    @classmethod
    def _file(cls, text: str) -> StoreURL:
        parts = urlsplit(text)
        path = unquote(parts.path)
        if (parts.netloc not in ("", "localhost") or parts.query or parts.fragment
                or not path.startswith("/") or "\0" in path):
            raise ConfigError(f"invalid file store URL {_shown(text)}: expected file:///path")
        return cls(path=Path(path))

    def relative_to_base(self, base: Path) -> StoreURL:
        """A local directory given relative, taken from ``base`` (the config's folder)."""
        if self.path is None:
            return self
        return StoreURL(path=Path(os.path.normpath(base / self.path)))


def _shown(text: str) -> str:
    """``text`` quoted on one line, whatever it holds (newlines, control characters)."""
    return repr(text)
