"""The find -printf parser and the path encoding of the snapshot manifest."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evacuate.snapshot.scan import decode_path, encode_path, parse_scan

# captured on lab-source (Debian 12) with scan_command(["/srv/data/Reports 2024"], [])
CAPTURED = (b"d\0/srv/data/Reports 2024\x004096\x001795454990.7981318690\x00"
            b"1795454990.7981318690\x0043:1234\x00755\x000\x000\x00root\x00root\x002\x008\x00\x00"
            b"f\0/srv/data/Reports 2024/Q1 summary.txt\x0018\x001795454990.7981318690\x00"
            b"1795454990.7981318690\x0043:1235\x00644\x000\x000\x00root\x00root\x001\x008\x00\x00")


def test_parse_captured_records() -> None:
    directory, report = parse_scan(CAPTURED)
    assert directory.kind == "dir" and directory.mode == 0o755
    assert report.name == "/srv/data/Reports 2024/Q1 summary.txt" and report.size == 18
    assert report.mtime == "1795454990.7981318690" and not report.sparse


def test_a_truncated_listing_is_an_error() -> None:
    with pytest.raises(ValueError, match="truncated"):
        list(parse_scan(CAPTURED[:-20]))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=64).filter(lambda b: b"\0" not in b))
def test_any_path_round_trips_through_json(raw: bytes) -> None:
    path = b"/srv/" + raw
    text = encode_path(path)
    assert text.startswith("/srv/")  # prefixes stay comparable, also for invalid UTF-8
    assert decode_path(json.loads(json.dumps(text))) == path


def test_verify_samples_names_that_are_not_utf8() -> None:
    from evacuate.verify.files import choose_sample

    names = [encode_path(b"/srv/caf\xe9"), "/srv/a", encode_path(b"/srv/\xff\xfe")]
    assert sorted(choose_sample(names, 2, full=False)) == sorted(choose_sample(names, 2, False))
    assert set(choose_sample(names, 5, full=True)) == set(names)

