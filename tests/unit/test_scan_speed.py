"""How long the controller takes over a million-entry listing: parse (stream_scan),
classify and count (engine.choosers with a real Exclusion and Tally, files.select_scanned)
and the manifest entries of what is carried (files._entry). Prints the CPU times; asserts
only what the pipeline produced, never a duration.

    EVACUATE_SCAN_RECORDS=1000000 .venv/bin/pytest -s tests/unit/test_scan_speed.py
    .venv/bin/python -m tests.unit.test_scan_speed [records] [--profile]

The test takes 100,000 records unless EVACUATE_SCAN_RECORDS says otherwise (a million
need about 1.5 GB and half a minute); the script a million.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time

import pytest

from evacuate.snapshot.engine import choosers
from evacuate.snapshot.exclusion import Tally
from evacuate.snapshot.files import _entry, select_scanned
from evacuate.snapshot.scan import stream_scan
from tests.unit import scan_listing

RECORDS = 1_000_000


def run(raw: bytes) -> dict[str, object]:
    """The pipeline once over ``raw``; the times of its stages and what it produced."""
    times: dict[str, float] = {}
    started = time.process_time()
    entries = list(stream_scan(io.BytesIO(raw)))
    times["parse"] = time.process_time() - started

    started = time.process_time()
    tally = Tally()
    choose, parent = choosers(scan_listing.exclusion(), tally)
    kept, seen = select_scanned(entries, choose, parent)
    totals = tally.totals()
    times["classify"] = time.process_time() - started

    started = time.process_time()
    manifest = [_entry(e) for e in kept]
    times["entries"] = time.process_time() - started
    return {"times": times, "seen": seen, "kept": len(kept), "totals": totals,
            "manifest": manifest}


@pytest.mark.slow
def test_a_million_entry_listing() -> None:
    count = int(os.environ.get("EVACUATE_SCAN_RECORDS", "100000"))
    raw = scan_listing.listing(count)
    result = run(raw)
    times = result["times"]
    assert isinstance(times, dict)
    print(f"\n{count} records, {len(raw) / 2**20:.0f} MiB: " +
          ", ".join(f"{k} {v:.2f}s" for k, v in times.items()) +
          f", total {sum(times.values()):.2f}s; kept {result['kept']}")
    assert result["seen"] == count
    assert 0 < int(str(result["kept"])) < count


def main(argv: list[str]) -> None:
    count = int(next((a for a in argv if a.isdigit()), RECORDS))
    raw = scan_listing.listing(count)
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.enable()
        result = run(raw)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    else:
        result = run(raw)
    times = result["times"]
    assert isinstance(times, dict)
    print(f"{count} records, {len(raw) / 2**20:.0f} MiB: " +
          ", ".join(f"{k} {v:.2f}s" for k, v in times.items()) +
          f", total {sum(times.values()):.2f}s; kept {result['kept']}")


if __name__ == "__main__":
    main(sys.argv[1:])
