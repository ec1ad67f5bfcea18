"""Apply a ``getfattr --dump -e base64`` text read from stdin (``setfattr --restore``'s
job). Runs on a restore target through its ``python3 -c`` when it has no setfattr; exits 1
when any attribute could not be set, naming each file on stderr."""

from __future__ import annotations

import base64
import os
import re
import sys


def unquote(raw: bytes) -> bytes:
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8) & 0xFF]), raw)


def main(text: bytes) -> int:
    path, failed = None, 0
    for line in text.split(b"\n"):
        if line.startswith(b"# file: "):
            path = unquote(line[len(b"# file: "):])
        elif line and path is not None and not line.startswith(b"#"):
            name, _, value = line.partition(b"=")
            try:
                os.setxattr(path, unquote(name), base64.b64decode(value[2:]),
                            follow_symlinks=False)
            except OSError as error:
                failed += 1
                sys.stderr.write(f"{os.fsdecode(path)}: {error.strerror}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.stdin.buffer.read()))
