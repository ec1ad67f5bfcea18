"""User extended attributes (``user.*``) of the snapshot's trees.

Read on the host with ``getfattr`` when it has it (package attr), else with its ``python3``
(both only read; nothing is installed): one text in ``getfattr --dump -e base64`` form,
stored as a blob. Applied on the target with ``setfattr --restore`` when it has it, else
with its ``python3``. Without either, the snapshot or the restore says so in a warning.
The walk never follows symlinks and stays on each root's filesystem, like the file scan.
"""

from __future__ import annotations

import base64
import binascii
import shlex
from collections.abc import Sequence

from evacuate.snapshot.host import program
from evacuate.snapshot.scan import encode_path
from evacuate.transport.base import Transport

NO_TOOL = 3

# The programs for a host without getfattr/setfattr (evacuate/snapshot/host/).
_PY_DUMP = program("xattrs_dump")
_PY_LOAD = program("xattrs_load")


def dump_command(roots: Sequence[str]) -> str:
    quoted = " ".join(shlex.quote(r) for r in roots)
    return (f"if command -v getfattr >/dev/null 2>&1; then cd / && getfattr -R -P -h -d "
            f"-m '^user\\.' -e base64 --absolute-names -- {quoted} 2>/dev/null; exit 0; "
            f"elif command -v python3 >/dev/null 2>&1; then exec python3 -c "
            f"{shlex.quote(_PY_DUMP)} {quoted}; else exit {NO_TOOL}; fi")


LOAD_COMMAND = ("if command -v setfattr >/dev/null 2>&1; then exec setfattr -h --restore=-; "
                f"elif command -v python3 >/dev/null 2>&1; then exec python3 -c "
                f"{shlex.quote(_PY_LOAD)}; else exit 127; fi")


def snapshot_xattrs(transport: Transport, roots: Sequence[str]) -> tuple[bytes | None, str | None]:
    """The user xattrs under ``roots`` as a dump (None when there are none) and a warning
    when the host has no tool to read them."""
    result = transport.run(dump_command(roots), timeout=900)
    if result.exit_status == NO_TOOL:
        return None, (f"{transport.name}: neither getfattr (package attr) nor python3: user "
                      "extended attributes are not in this snapshot")
    if result.exit_status != 0:
        last = (result.error_text.strip().splitlines() or ["no message"])[-1]
        return None, f"{transport.name}: user extended attributes not read: {last}"
    return (result.stdout if parse_dump(result.stdout) else None), None


def _unquote(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        digits = raw[i + 1:i + 4]
        if raw[i] == 0x5C and len(digits) == 3 and all(48 <= d <= 55 for d in digits):
            out.append(int(digits, 8) & 0xFF)
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def _quote(raw: bytes, extra: bytes = b"") -> bytes:
    return b"".join(b"\\%03o" % c if c < 33 or c > 126 or c == 92 or c in extra
                    else bytes([c]) for c in raw)


def _value(text: bytes) -> bytes:
    if text.startswith(b"0s"):
        return base64.b64decode(text[2:])
    if text.startswith(b"0x"):
        return binascii.unhexlify(text[2:])
    if text.startswith(b'"') and text.endswith(b'"') and len(text) >= 2:
        return _unquote(text[1:-1])
    return text


def parse_dump(raw: bytes) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """Parse a getfattr dump into (path, [(name, value)]) per file, in order."""
    files: list[tuple[bytes, list[tuple[bytes, bytes]]]] = []
    for line in raw.split(b"\n"):
        if line.startswith(b"# file: "):
            files.append((_unquote(line[len(b"# file: "):]), []))
        elif line and not line.startswith(b"#") and files:
            name, _, value = line.partition(b"=")
            files[-1][1].append((_unquote(name), _value(value)))
    return [(path, attrs) for path, attrs in files if attrs]


def render_dump(files: list[tuple[bytes, list[tuple[bytes, bytes]]]]) -> bytes:
    return b"".join(b"# file: " + _quote(path) + b"\n" + b"".join(
        _quote(name, b"=") + b"=0s" + base64.b64encode(value) + b"\n" for name, value in attrs)
        + b"\n" for path, attrs in files)


def restore_xattrs(dump: bytes, transport: Transport, dest: str, chosen: set[str]) -> str | None:
    """Apply the dump's attributes of the ``chosen`` paths under ``dest`` on the host;
    return a one-line problem, or None when they are in place."""
    prefix = dest.rstrip("/").encode()
    kept = [(prefix + path, attrs) for path, attrs in parse_dump(dump)
            if encode_path(path) in chosen]
    if not kept:
        return None
    result = transport.run(LOAD_COMMAND, input=render_dump(kept), timeout=900)
    if result.exit_status == 127:
        return (f"{transport.name}: neither setfattr nor python3: user extended attributes "
                f"of {len(kept)} files not restored")
    if not result.ok:
        last = (result.error_text.strip().splitlines() or ["no message"])[-1]
        return f"{transport.name}: some user extended attributes were not restored: {last}"
    return None
