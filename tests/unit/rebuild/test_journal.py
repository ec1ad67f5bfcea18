"""The run journal: typed entries, one writer, and the JSON a resume (and the lab tests) read,
unchanged since the first release."""

from __future__ import annotations

import json
from pathlib import Path

from evacuate.rebuild.journal import Journal, JournalEntry, StepStatus


def _on_disk(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_a_new_journal_is_written_at_once_and_each_change_after(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = Journal.open(path, "a-to-b", resume=False)
    assert _on_disk(path)["steps"] == {} and _on_disk(path)["snapshot_id"] is None
    journal.use_snapshot("S1")  # written with the next step's record
    assert _on_disk(path)["snapshot_id"] is None
    journal.mark("snapshot", 1.23456, detail="snapshot S1: 1.0 s")
    journal.progress("databases", "postgresql:shop")
    saved = _on_disk(path)
    assert saved["snapshot_id"] == "S1"
    steps = saved["steps"]
    assert isinstance(steps, dict)
    assert set(steps["snapshot"]) == {"status", "finished", "seconds", "detail"}
    assert steps["snapshot"]["status"] == "done" and steps["snapshot"]["seconds"] == 1.235
    assert steps["databases"] == {"status": "running", "restoring": "postgresql:shop"}
    journal.progress("databases", None)  # between two dumps: the key stays, null
    assert _on_disk(path)["steps"]["databases"] == {"status": "running",  # type: ignore[index]
                                                    "restoring": None}


def test_a_journal_of_an_earlier_version_resumes(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.write_text(json.dumps({
        "plan": "a-to-b", "snapshot_id": "S1", "started": 100.0,
        "steps": {"snapshot": {"status": "done", "finished": 101.0, "seconds": 1.0,
                               "detail": "snapshot S1: 1.0 s"},
                  "prepare": {"status": "done", "finished": 102.0, "seconds": 1.0,
                              "detail": "ok=3 changed=1"},
                  "databases": {"status": "running", "restoring": "mysql:notes"},
                  "odd": {"status": "from-the-future"}}}))
    journal = Journal.open(path, "a-to-b", resume=True)
    assert journal.snapshot_id == "S1" and journal.started == 100.0
    assert journal.done("snapshot") and journal.done("prepare")
    assert not journal.done("databases") and journal.restoring("databases") == "mysql:notes"
    assert not journal.done("odd") and journal.entry("odd") is None
    assert journal.restoring("prepare") is None  # done: nothing half restored
    journal.mark("databases", 2.0, detail="ok")
    assert journal.restoring("databases") is None


def test_another_plan_or_no_resume_starts_a_new_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    Journal.open(path, "a-to-b", resume=False).mark("snapshot", 1.0, detail="")
    assert Journal.open(path, "a-to-c", resume=True).steps == {}
    Journal.open(path, "a-to-b", resume=False)
    assert _on_disk(path)["steps"] == {}


def test_reading_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    assert Journal.read(path, "a-to-b") is None and not path.exists()
    Journal.open(path, "a-to-b", resume=False).mark("snapshot", 1.0, detail="d")
    before = path.read_bytes()
    read = Journal.read(path, "a-to-b")
    assert read is not None and read.done("snapshot") and path.read_bytes() == before


def test_a_cutover_record(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = Journal.open(path, "a-to-b", resume=False)
    journal.mark_cutover(verified=False, snapshot="S2", downtime=12.3456, stopped=["nginx.service"])
    assert _on_disk(path)["snapshot_id"] == "S2"
    assert _on_disk(path)["steps"] == {"cutover": {"status": "failed", "snapshot": "S2",
                                                   "downtime": 12.35,
                                                   "stopped": ["nginx.service"]}}
    entry = Journal.open(path, "a-to-b", resume=True).entry("cutover")
    assert entry == JournalEntry(StepStatus.FAILED, snapshot="S2", downtime=12.35,
                                 stopped=("nginx.service",))
