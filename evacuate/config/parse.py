"""Parsers for the values of evacuate.yml that are more than a schema type: durations
and store URLs, each raising ValueError saying what is wrong. SSH addresses are parsed
by the transport's :func:`~evacuate.transport.spec.parse_host_spec` (UsageError).
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def parse_duration(text: str) -> timedelta:
    """Given "15m", "2h", "1d" or "1h30m" (units s, m, h, d, w), return the timedelta;
    raise ValueError for anything else."""
    compact = text.strip().lower()
    if not compact or _DURATION.sub("", compact).strip():
        raise ValueError(f"{text!r} is not a duration like 15m, 2h, 1d or 1h30m")
    total = timedelta()
    for amount, unit in _DURATION.findall(compact):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def parse_store_url(url: str) -> tuple[str, str] | None:
    """Given a store URL, return ``(bucket, prefix)`` for ``s3://bucket[/prefix]`` or
    None for a local path; raise ValueError for other schemes or a bad bucket name."""
    scheme = _SCHEME.match(url)
    if not scheme:
        return None
    if scheme.group(1).lower() != "s3":
        raise ValueError(f"unsupported scheme {scheme.group(1)!r}: use a local path or s3://bucket/prefix")
    bucket, _, prefix = url[len(scheme.group(0)):].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"{bucket!r} is not a valid S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')")
    return bucket, prefix.strip("/")
