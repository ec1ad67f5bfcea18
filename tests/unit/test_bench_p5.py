"""P5 reads where each cutover's downtime went from the cutover's own output."""

from __future__ import annotations

import json
from pathlib import Path

from bench.p5_cutover import downtime_phases, phase_note, read_kib, verify_parts

OUTPUT = """cutover: stopping on the source: nginx.service, notes.service
cutover: final snapshot 20261203T180000Z-1a2b: 2315 KiB read
cutover: 53 changed and 0 removed files moved, databases replaced from snapshot
20261203T180000Z-1a2b; downtime 12.6 s (stop 0.4 s, final snapshot 4.1 s, files 0.5 s,
databases 2.2 s, restart 3.0 s, verify 2.4 s); 296 checks passed; report /x/r.json
"""


def test_the_phases_and_the_data_read_come_from_the_output() -> None:
    assert downtime_phases(OUTPUT) == {"stop": 0.4, "final snapshot": 4.1, "files": 0.5,
                                       "databases": 2.2, "restart": 3.0, "verify": 2.4}
    assert read_kib(OUTPUT) == 2315
    assert downtime_phases("downtime 3.0 s; ok") == {} and read_kib("") is None


def test_the_note_gives_each_phases_median() -> None:
    rounds = [{"stop": 0.4, "verify": 2.0}, {"stop": 0.6, "verify": 3.0},
              {"stop": 0.5, "verify": 9.0}]
    assert phase_note(rounds, [10, 30, 20]) == (
        "downtime by phase (medians): stop 0.5 s, verify 3.0 s; the final snapshot read 20 KiB")
    assert phase_note([], []) == ""


def test_the_verifys_parts_come_from_its_report(tmp_path: Path) -> None:
    report = tmp_path / "verify-target-1.json"
    report.write_text(json.dumps({"checks": [], "timings": {"inventory": 1.25, "files": 4.5,
                                                            "databases": 6.0}}))
    said = OUTPUT.replace("/x/r.json", str(report))
    assert verify_parts(said) == {"inventory": 1.25, "files": 4.5, "databases": 6.0}
    assert verify_parts(OUTPUT) == {}  # the report is not there
    note = phase_note([{"verify": 7.0}], [], [verify_parts(said), {}])
    assert note == ("downtime by phase (medians): verify 7.0 s; verify's parts, side by "
                    "side: inventory 1.2 s, files 4.5 s, databases 6.0 s")
