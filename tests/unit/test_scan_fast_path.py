"""The fast listing path (scan._records, files._entry, Exclusion's lastgroup, Tally's
prefix tuples) gives what the plain code it replaced gave, on the records that are easy
to get wrong: names with newlines and bytes that are not UTF-8, symlinks, hard links,
sparse files, FIFOs, owners that are not UTF-8."""

from __future__ import annotations

import io
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from evacuate.snapshot.exclusion import Rule, Tally, _outer_group
from evacuate.snapshot.files import _entry
from evacuate.snapshot.manifest import FileEntry
from evacuate.snapshot.scan import KINDS, ScannedEntry, encode_path, parse_scan, stream_scan
from tests.unit import scan_listing
from tests.unit.scan_listing import record

WIDTH = 14


def old_parse_scan(raw: bytes) -> Iterator[ScannedEntry]:
    """The parser as it was: every record through the dataclass constructor."""
    fields = raw.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    if len(fields) % WIDTH:
        raise ValueError("truncated")
    for start in range(0, len(fields), WIDTH):
        kind, path, size, mtime, ctime, inode, mode, uid, gid, user, group, nlink, blocks, link = (
            fields[start:start + WIDTH])
        letter = kind.decode()
        if letter not in KINDS:
            raise ValueError(f"unknown file type {letter!r} for {path!r}")
        yield ScannedEntry(
            path=path, kind=KINDS[letter], size=int(size), mtime=mtime.decode(),
            ctime=ctime.decode(), inode=inode.decode(), mode=int(mode, 8), uid=int(uid),
            gid=int(gid), user=user.decode("utf-8", "replace"),
            group=group.decode("utf-8", "replace"), nlink=int(nlink), blocks=int(blocks),
            link_target=link if letter == "l" else None)


def old_entry(scanned: ScannedEntry, **extra: object) -> FileEntry:
    return FileEntry(
        path=encode_path(scanned.path), kind=scanned.kind, mode=scanned.mode, uid=scanned.uid,
        gid=scanned.gid, user=scanned.user, group=scanned.group, mtime=scanned.mtime,
        size=scanned.size if scanned.kind == "file" else 0, ctime=scanned.ctime,
        inode=scanned.inode, sparse=scanned.sparse,
        link_target=encode_path(scanned.link_target) if scanned.link_target is not None else None,
        **extra)  # type: ignore[arg-type]


TRICKY = b"".join((
    record(b"d", b"/srv/d\nir", size=4096, mode=b"2775", nlink=3),
    record(b"f", b"/srv/d\nir/caf\xe9 \xff", size=5, user=b"j\xc3\xbcrgen"),
    record(b"f", b"/srv/d\nir/hard", size=5, nlink=2, inode=9),
    record(b"f", b"/srv/d\nir/hard2", size=5, nlink=2, inode=9),
    record(b"f", b"/srv/sparse.img", size=64 << 20, blocks=16),
    record(b"f", b"/srv/empty", size=0, blocks=0),
    record(b"l", b"/srv/link\n", size=9, link=b"caf\xe9\ntarget", mode=b"777"),
    record(b"l", b"/etc/alternatives/x", size=4, link=b"/usr/bin/\xff"),
    record(b"p", b"/srv/fifo", mode=b"600", blocks=0),
    record(b"f", b"/srv/owner", size=3, user=b"\xff\xfeowner"),
    record(b"c", b"/srv/dev\x01null", mode=b"666", blocks=0),
    record(b"s", b"/run/sock", mode=b"755", blocks=0),
    record(b"f", b"/srv/suid", size=3, mode=b"4755"),
))


def _same(new: list[ScannedEntry], old: list[ScannedEntry]) -> None:
    assert new == old
    assert [repr(e) for e in new] == [repr(e) for e in old]
    assert [e.name for e in new] == [encode_path(e.path) for e in old]
    assert [(e.sparse, hash(e)) for e in new] == [(e.sparse, hash(e)) for e in old]
    for fast, plain in zip(new, old, strict=True):
        assert _entry(fast) == old_entry(plain)
        assert _entry(fast, hardlink_to="/x") == old_entry(plain, hardlink_to="/x")


def test_tricky_records_parse_as_before() -> None:
    old = list(old_parse_scan(TRICKY))
    _same(list(parse_scan(TRICKY)), old)
    for chunk in (1, 7, 100, 1 << 20):
        _same(list(stream_scan(io.BytesIO(TRICKY), chunk)), old)
    assert old[4].sparse and not old[5].sparse and old[1].user == "j\u00fcrgen"
    assert old[9].user == "\ufffd\ufffdowner"


def test_the_synthetic_listing_parses_and_classifies_as_before() -> None:
    raw = scan_listing.listing(20_000)
    old = list(old_parse_scan(raw))
    _same(list(stream_scan(io.BytesIO(raw), 4096)), old)
    exclusion = scan_listing.exclusion()
    combined = exclusion._combined
    assert combined is not None
    for entry in old:
        match = combined.match(entry.name)
        if match is not None:
            plain = next(name for name, value in match.groupdict().items()
                         if value is not None and name.startswith("rule"))
            assert _outer_group(match) == plain, entry.name


def _old_examples(paths: list[str], limit: int = Tally.MAX_EXAMPLES) -> list[str]:
    examples: list[str] = []
    for path in paths:
        if len(examples) >= limit and path.count("/") >= examples[-1].count("/"):
            continue
        if not any(path.startswith(e.rstrip("/") + "/") for e in examples):
            examples.append(path)
            examples.sort(key=lambda p: (p.count("/"), p))
            del examples[limit:]
    return sorted(examples)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "ab", "\n", "\udcff"]), min_size=1,
                         max_size=4).map(lambda parts: "/" + "/".join(parts)), max_size=40))
def test_tally_keeps_the_same_examples(paths: list[str]) -> None:
    tally = Tally()
    rule = Rule("data", "r", carried=True)
    for path in paths:
        tally.add(rule, path, "file", 1)
    totals = tally.totals()
    assert [t.examples for t in totals] == ([tuple(_old_examples(paths))] if paths else [])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(b"fdlpscb")),
                          st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b),
                          st.integers(0, 2**40), st.integers(0, 2**20),
                          st.binary(max_size=6).filter(lambda b: b"\0" not in b)),
                max_size=8))
def test_any_record_parses_as_before(items: list[tuple[int, bytes, int, int, bytes]]) -> None:
    raw = b"".join(record(bytes([kind]), b"/" + name, size=size, blocks=blocks, user=user or b"u",
                          link=name if kind == ord("l") else b"")
                   for kind, name, size, blocks, user in items)
    _same(list(parse_scan(raw)), list(old_parse_scan(raw)))
