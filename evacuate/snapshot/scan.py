"""Scanning file trees on a host: one ``find`` round trip that lists every entry with the
metadata a faithful restore and an incremental snapshot need.

The remote side is GNU find's ``-printf`` with NUL-separated fields, so any byte in a file
name (newlines, quotes, leading dashes, invalid UTF-8) survives. The parser is pure.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import IO

FIELDS = ("%y", "%p", "%s", "%T@", "%C@", "%D:%i", "%m", "%U", "%G", "%u", "%g", "%n", "%b", "%l")
RECORD_FORMAT = "\\0".join(FIELDS) + "\\0"
_WIDTH = len(FIELDS)

KINDS = {"f": "file", "d": "dir", "l": "symlink", "p": "fifo", "s": "socket", "b": "block",
         "c": "char"}
_KINDS = {letter.encode(): kind for letter, kind in KINDS.items()}


@dataclass(frozen=True)
class ScannedEntry:
    """One filesystem entry as ``find`` saw it. ``path`` is the raw bytes of the name."""

    path: bytes
    kind: str  # file, dir, symlink, fifo, socket, block, char
    size: int
    mtime: str  # seconds since the epoch as find prints them (exact decimal string)
    ctime: str
    inode: str  # device:inode, identifies hard links and changed files
    mode: int  # permission bits incl. setuid/setgid/sticky
    uid: int
    gid: int
    user: str  # the name, or the number when the host has no name for it
    group: str
    nlink: int
    blocks: int  # 512-byte blocks allocated: fewer than size/512 means sparse
    link_target: bytes | None

    @property
    def sparse(self) -> bool:
        return self.kind == "file" and self.size > 0 and self.blocks * 512 < self.size

    @cached_property
    def name(self) -> str:
        """The path as text (see encode_path); computed once, kept outside the fields
        (the parser fills it in: then reading it is a plain attribute lookup)."""
        return encode_path(self.path)


_new = object.__new__


def encode_path(raw: bytes) -> str:
    """Return ``raw`` as str: UTF-8 text where it is valid, undecodable bytes as lone
    surrogates (surrogateescape). Such a string keeps its readable prefix (so path tests like
    ``startswith('/srv/')`` still hold) and round-trips through JSON as ``\\udcXX``."""
    return raw.decode("utf-8", "surrogateescape")


def decode_path(text: str) -> bytes:
    """Invert :func:`encode_path`."""
    return text.encode("utf-8", "surrogateescape")


SCAN_COMPLAINED = 123
"""The exit status of :func:`scan_command` when find complained (a file vanished or was
unreadable while listed: find exits 1, and xargs, which runs it, reports that as 123)."""


def scan_command(roots: Sequence[str], excludes: Iterable[str] = ()) -> str:
    """Return the sh command that lists ``roots`` (same filesystem only, symlinks not
    followed) without the ``excludes`` (find -path patterns, e.g. '/srv/cache/*')."""
    prune = ""
    patterns = [p for p in excludes if p]
    if patterns:
        tests = " -o ".join(f"-path {shlex.quote(p)}" for p in patterns)
        prune = f"\\( {tests} \\) -prune -o "
    quoted = " ".join(shlex.quote(r) for r in roots)
    # roots that do not exist are skipped quietly: the inventory decides what exists
    return (f"for r in {quoted}; do [ -e \"$r\" ] || [ -L \"$r\" ] && printf '%s\\0' \"$r\"; done"
            f" | xargs -0 -r sh -c 'exec find -P \"$@\" -xdev {_sh_escape(prune)}-printf "
            f"{_sh_escape(shlex.quote(RECORD_FORMAT))}' find")


def restat_command() -> str:
    """Return the sh command that lists again, with the fields of :func:`scan_command`, the
    NUL-separated absolute paths on its stdin (each itself only; missing ones are skipped)."""
    return (f"xargs -0 -r sh -c 'exec find -P \"$@\" -maxdepth 0 -printf "
            f"{_sh_escape(shlex.quote(RECORD_FORMAT))}' find")


DEVICE_COMMAND = "xargs -0 -r stat --printf '%n\\0%t:%T\\0' --"
"""Print ``path NUL major:minor NUL`` (hexadecimal) for each device path on stdin."""


def parse_devices(raw: bytes) -> dict[bytes, str]:
    """Parse :data:`DEVICE_COMMAND`'s output into path → "major:minor" (decimal)."""
    fields = raw.split(b"\0")
    numbers: dict[bytes, str] = {}
    for start in range(0, len(fields) - 1, 2):
        major, _, minor = fields[start + 1].partition(b":")
        try:
            numbers[fields[start]] = f"{int(major, 16)}:{int(minor, 16)}"
        except ValueError:
            continue
    return numbers


def _sh_escape(text: str) -> str:
    """Escape ``text`` for use inside the single-quoted sh -c program above."""
    return text.replace("'", "'\\''")


def stream_scan(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[ScannedEntry]:
    """Parse :func:`scan_command`'s records as they arrive on ``stream``, holding no more
    than one chunk and one record at a time; raise ValueError on a truncated stream."""
    pending = b""
    while True:
        data = stream.read(chunk)
        if not data:
            break
        pending += data
        fields = pending.split(b"\0")
        whole = (len(fields) - 1) // _WIDTH * _WIDTH  # the last field may be cut short
        if whole:
            pending = b"\0".join(fields[whole:])
            del fields[whole:]
            yield from _records(fields)
    if pending:
        yield from parse_scan(pending)


def parse_scan(raw: bytes) -> Iterator[ScannedEntry]:
    """Parse the NUL-separated records of :func:`scan_command`; raise ValueError on a
    malformed record (a truncated stream is reported, never silently accepted)."""
    fields = raw.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    if len(fields) % _WIDTH:
        raise ValueError(f"scan output truncated: {len(fields)} fields is not a multiple of {_WIDTH}")
    return _records(fields)


def _records(fields: list[bytes]) -> Iterator[ScannedEntry]:
    """The entries of ``fields``, whole records of _WIDTH fields each.

    Each is made as ScannedEntry(...) would make it (every field; ``name`` filled in)
    without the frozen dataclass's per-field setattr, a quarter of the time: a listing has
    millions of records, and ScannedEntry has no __post_init__ to skip."""
    kinds, new = _KINDS, _new
    for start in range(0, len(fields), _WIDTH):
        kind, path, size, mtime, ctime, inode, mode, uid, gid, user, group, nlink, blocks, link = (
            fields[start:start + _WIDTH])
        name = kinds.get(kind)
        if name is None:
            letter = kind.decode()
            raise ValueError(f"unknown file type {letter!r} for {path!r}")
        entry = new(ScannedEntry)
        entry.__dict__.update({
            "path": path, "kind": name, "size": int(size), "mtime": mtime.decode(),
            "ctime": ctime.decode(), "inode": inode.decode(), "mode": int(mode, 8),
            "uid": int(uid), "gid": int(gid),
            # names are ASCII but on the odd host; decode() is UTF-8
            "user": user.decode() if user.isascii() else user.decode("utf-8", "replace"),
            "group": group.decode() if group.isascii() else group.decode("utf-8", "replace"),
            "nlink": int(nlink), "blocks": int(blocks),
            "link_target": link if kind == b"l" else None,
            "name": path.decode("utf-8", "surrogateescape")})
        yield entry
