"""A synthetic listing in the exact format of scan.scan_command (find -printf, NUL-separated
fields), depth first as find writes it, with what a real server has: package files, data
trees, logs, caches, /tmp, symlinks, hard links, sparse files, FIFOs, and names with
newlines and bytes that are not UTF-8. Used by the parse-speed measurement and the
agreement tests of the parser."""

from __future__ import annotations

import random
from collections.abc import Iterator

from evacuate.snapshot.exclusion import Exclusion

TREES = (b"/usr/share/doc", b"/usr/lib/python3", b"/srv/data", b"/home/alice", b"/var/log/app",
         b"/var/cache/apt", b"/etc/nginx", b"/tmp/build", b"/var/lib/postgresql/15",
         b"/opt/app/node_modules")
ODD_NAMES = (b"line\nbreak", b"caf\xe9", b"\xff\xfe raw", b"-dash", b"quote'\"", b" space ",
             b"uni\xc3\xa9", b"tab\there", b"star*[x]?")


def record(kind: bytes, path: bytes, *, size: int = 0, inode: int = 1, mode: bytes = b"644",
           user: bytes = b"root", nlink: int = 1, blocks: int | None = None,
           link: bytes = b"", mtime: bytes = b"1795454990.7981318690") -> bytes:
    """One record: the fields of scan.FIELDS, each followed by NUL."""
    if blocks is None:
        blocks = (size + 4095) // 4096 * 8
    fields = (kind, path, str(size).encode(), mtime, mtime, b"43:%d" % inode, mode,
              b"1000" if user != b"root" else b"0", b"1000" if user != b"root" else b"0",
              user, user, str(nlink).encode(), str(blocks).encode(), link)
    return b"".join(f + b"\0" for f in fields)


def records(count: int, seed: int = 7) -> Iterator[bytes]:
    """``count`` records spread over TREES, one directory per 40 entries."""
    rnd = random.Random(seed)
    inode = 100
    made = 0
    for parent in (b"/", b"/usr", b"/usr/share", b"/usr/lib", b"/srv", b"/home", b"/var",
                   b"/var/log", b"/var/cache", b"/etc", b"/tmp", b"/var/lib",
                   b"/var/lib/postgresql", b"/opt", b"/opt/app"):
        yield record(b"d", parent, size=4096, mode=b"755", nlink=3)
        made += 1
    directory = 0
    while made < count:
        tree = TREES[directory % len(TREES)]
        base = tree + b"/d%d" % directory
        directory += 1
        user = b"alice" if tree.startswith(b"/home") else b"root"
        yield record(b"d", base, size=4096, mode=b"755", user=user, nlink=2, inode=inode)
        inode += 1
        made += 1
        first_file = None
        for n in range(39):
            if made >= count:
                return
            inode += 1
            made += 1
            choice = rnd.random()
            name = base + b"/f%d" % n
            if choice < 0.02:
                name = base + b"/" + ODD_NAMES[n % len(ODD_NAMES)] + b"%d" % n
            if choice < 0.06:
                yield record(b"l", name, size=12, link=b"../target %d" % n, mode=b"777",
                             user=user, inode=inode)
            elif choice < 0.08 and first_file is not None:
                yield record(b"f", name, size=first_file[1], inode=first_file[0], nlink=2,
                             user=user)
            elif choice < 0.09:
                yield record(b"f", name, size=64 << 20, blocks=16, user=user, inode=inode)
            elif choice < 0.095:
                yield record(b"p", name, mode=b"600", user=user, inode=inode, blocks=0)
            else:
                size = rnd.randrange(0, 200_000)
                if first_file is None:
                    first_file = (inode, size)
                yield record(b"f", name, size=size, mode=b"644" if n % 7 else b"4755",
                             user=user, inode=inode)


def listing(count: int, seed: int = 7) -> bytes:
    return b"".join(records(count, seed))


def exclusion() -> Exclusion:
    """A source where the package files under /usr and /etc are owned, postgresql is dumped
    and a few of the files are changed."""
    owned = {"/", "/usr", "/usr/share", "/usr/lib", "/etc", "/etc/nginx"}
    for directory in range(0, 30_000, len(TREES)):  # the /usr/share/doc trees
        for n in range(39):
            owned.add(f"/usr/share/doc/d{directory}/f{n}")
    return Exclusion(owned=owned, changed=frozenset({"/usr/share/doc/d0/f3"}),
                     database_dirs=("/var/lib/postgresql/15",), other_mounts=("/proc",),
                     swap_files=("/swapfile",), includes=("/var/cache/apt/d5",),
                     excludes=("/srv/data/d2/*",))
