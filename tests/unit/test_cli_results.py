"""Machine-readable results and honest empty answers: ``run``, ``restore`` and ``rehearse``
print one JSON document with --json, also when they fail (the exit code unchanged); ``run
--dry-run`` lists the steps, their Ansible tasks and the data, and writes nothing; empty
``snapshots``/``status`` say so; a plan that fails leaves no store key behind."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from evacuate.ansible.vault import encrypt, ensure_vault_password
from evacuate.cli.app import run_cli
from evacuate.plan.render import render_project
from evacuate.state import write_json
from tests.unit.plan.test_persist import _plan


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out
    document: dict[str, object] = json.loads(out)  # one document, nothing else
    return document


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    """A state directory holding a saved plan, its rendered project and an empty store."""
    state = tmp_path / "state"
    plan = _plan()
    folder = state / "plans" / plan.name
    password = ensure_vault_password(state / "keys" / "vault-pass")
    render_project(plan, folder / "project", vault_document=encrypt(
        json.dumps({"evacuate_password_hashes": {}}) + "\n", password))
    write_json(folder / "plan.json", asdict(plan))
    (state / "plans" / "current").write_text(plan.name + "\n")
    (state / "store").mkdir()
    return state


def test_a_dry_run_lists_steps_tasks_and_data_and_writes_nothing(
        planned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _files(planned)
    assert run_cli(["run", "--dry-run", "--state-dir", str(planned)]) == 0
    out = capsys.readouterr().out
    assert "[2/3] prepare: p" in out and "a fresh snapshot of web" in out
    tasks = [line.strip() for line in out.splitlines() if line.strip().startswith("task: ")]
    assert "task: packages : Install the packages of the source" in tasks, out
    assert "task: services : Start the units" in tasks, out
    assert out.index("Install the packages") < out.index("[3/3] activate") < \
        out.index("Start the units")
    assert "1 entries" in out and "/srv" in out and "1 packages" in out
    assert _files(planned) == before  # no journal, no key, no runner directory

    assert run_cli(["run", "--dry-run", "--json", "--state-dir", str(planned)]) == 0
    document = _json(capsys)
    assert document["ok"] is True and document["dry_run"] is True
    steps = document["steps"]
    assert isinstance(steps, list) and [s["id"] for s in steps] == ["snapshot", "prepare",
                                                                    "activate"]
    assert steps[1]["tasks"] and not steps[0]["tasks"] and document["files"] == 1
    assert _files(planned) == before


def test_a_dry_run_of_a_resume_marks_what_is_done(planned: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    journal = planned / "plans" / "web-to-new" / "journal.json"
    journal.write_text(json.dumps({"plan": "web-to-new", "snapshot_id": "S9", "started": 1.0,
                                   "steps": {"snapshot": {"status": "done", "detail": ""}}}))
    assert run_cli(["run", "--dry-run", "--resume", "--json", "--state-dir", str(planned)]) == 0
    document = _json(capsys)
    assert [s["skipped"] for s in document["steps"]] == [True, False, False]  # type: ignore
    assert "S9" in str(document["snapshot"])


@pytest.mark.parametrize(("argv", "code"), [
    (["run", "--json"], 2),  # no plan yet
    (["run", "--json", "--dry-run", "--cutover"], 2),
    (["restore", "lost", "--to", "root@127.0.0.1:1", "--json"], 7),  # no store
    (["rehearse", "--json"], 2),  # no host to rehearse
])
def test_a_failure_is_one_json_document_and_the_same_exit_code(
        argv: list[str], code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([*argv, "--state-dir", str(tmp_path / "state")]) == code
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["ok"] is False and document["exit_code"] == code
    assert document["command"] == argv[0] and document["error"]
    assert "error:" in captured.err and "Traceback" not in captured.err


def test_restore_without_a_snapshot_is_a_json_failure(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state" / "store").mkdir(parents=True)
    assert run_cli(["restore", "lost", "--to", "root@127.0.0.1:1", "--json",
                    "--state-dir", str(tmp_path / "state")]) == 2
    document = _json(capsys)
    assert "no snapshot of lost" in str(document["error"]) and document["hint"]


@pytest.mark.parametrize("verb", ["snapshots", "status"])
def test_an_empty_store_says_so(verb: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "state" / "store"
    store.mkdir(parents=True)
    assert run_cli([verb, "--state-dir", str(tmp_path / "state")]) == 0
    assert capsys.readouterr().out.strip() == f"no snapshots yet in {store}"
    assert run_cli([verb, "--json", "--state-dir", str(tmp_path / "state")]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_failed_plan_leaves_no_store_key(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    code = run_cli(["plan", "root@127.0.0.1:1", "--to", "root@127.0.0.1:2",
                    "--state-dir", str(state)])
    assert code == 4, capsys.readouterr().err  # nothing listens on port 1
    assert not (state / "keys" / "store.key").exists()
    assert not list(state.rglob("*.key"))
