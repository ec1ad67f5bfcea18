"""Print the ``user.*`` extended attributes under the roots named as arguments, in
``getfattr --dump -e base64`` form. Runs on a snapshot's source host through its
``python3 -c`` when it has no getfattr: only reads, never follows symlinks, stays on each
root's filesystem."""

from __future__ import annotations

import base64
import os
import sys
from typing import BinaryIO


def quote(raw: bytes, extra: bytes = b"") -> bytes:
    """getfattr's quoting: octal escapes for controls, space, backslash, non-ASCII and
    ``extra``."""
    return b"".join(b"\\%03o" % c if c < 33 or c > 126 or c == 92 or c in extra
                    else bytes([c]) for c in raw)


def dump(path: bytes, out: BinaryIO) -> None:
    try:
        names = sorted(n for n in os.listxattr(path, follow_symlinks=False)
                       if n.startswith("user."))
    except OSError:
        return
    lines = []
    for name in names:
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        lines.append(quote(os.fsencode(name), b"=") + b"=0s" + base64.b64encode(value) + b"\n")
    if lines:
        out.write(b"# file: " + quote(path) + b"\n" + b"".join(lines) + b"\n")


def main(roots: list[str], out: BinaryIO) -> None:
    for text in roots:
        root = os.fsencode(text)
        try:
            device = os.lstat(root).st_dev
        except OSError:
            continue
        dump(root, out)
        for top, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if os.lstat(os.path.join(top, d)).st_dev == device]
            for name in dirs + files:
                dump(os.path.join(top, name), out)


if __name__ == "__main__":
    main(sys.argv[1:], sys.stdout.buffer)
