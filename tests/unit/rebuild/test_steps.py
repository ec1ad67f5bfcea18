"""The run's step table: one handler per step kind, run in the plan's order, each completed
step journaled so that a resume continues after it; the snapshot runs beside the packages."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from evacuate.errors import EvacuateError
from evacuate.plan.model import Estimate, RebuildPlan, Step, StepKind
from evacuate.rebuild.journal import Journal
from evacuate.rebuild.run import STEPS, RunContext, StepHandler, StepRun, VerifyFailed, run_plan
from evacuate.snapshot.crypto import Cipher
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import StagingStopped
from evacuate.snapshot.store import BlobStore, MemoryStore
from evacuate.transport.base import Transport

PLAN_STEPS = (Step("snapshot", "snapshot", StepKind.SNAPSHOT),
              Step("prepare", "packages", StepKind.PREPARE, ("prepare",)),
              Step("files", "files", StepKind.FILES),
              Step("verify", "verify", StepKind.VERIFY))


def _plan() -> RebuildPlan:
    return RebuildPlan(
        name="web-to-new", source="web", target="new", target_spec="root@192.0.2.2",
        source_os="debian 12", target_os="debian 12", snapshot_id="S0", created="",
        packages=(), packages_missing=(), groups=(), users=(), sudoers=(), config_files=(),
        data_roots=(), mirrored_dirs=(), file_count=0, file_bytes=0, databases=(),
        services_enabled=(), services_started=(), cron_entries=0, timezone="",
        firewall_rules=0, steps=PLAN_STEPS, estimate=Estimate(0, 0, 0, 0, 0))


def _manifest(snapshot_id: str) -> SnapshotManifest:
    return SnapshotManifest(id=snapshot_id, host="web", created="", tool_version="t", roots=(),
                            excludes=(), files=(), dumps=(), inventory={}, totals=Totals())


class Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, index: int, total: int, step: Step, skipped: bool) -> None:
        self.lines.append(f"{step.id}{' skipped' if skipped else ''}")

    def step_done(self, step: Step, seconds: float, detail: str) -> None:
        self.lines.append(f"{step.id} done: {detail}")

    def task(self, name: str, host: str) -> None: ...
    def advance(self, count: int) -> None: ...
    def warning(self, message: str) -> None: ...


class NoTarget:
    def __enter__(self) -> NoTarget:
        return self

    def __exit__(self, *exc: object) -> None: ...


@pytest.fixture
def repo() -> SnapshotRepository:
    store = SnapshotRepository(BlobStore(MemoryStore(), Cipher(b"k" * 32)))
    store.commit(_manifest("S1"))
    return store


def _context(tmp_path: Path, repo: SnapshotRepository, verified: list[str], *,
             take=None) -> RunContext:  # type: ignore[no-untyped-def]
    def verify(manifest: SnapshotManifest, _target: Transport) -> tuple[bool, str, object]:
        verified.append(manifest.id)
        return True, "all checks passed", None

    return RunContext(plan=_plan(), folder=tmp_path, repo=repo,
                      connect_target=NoTarget,  # type: ignore[arg-type]
                      take_snapshot=take, vault_password_file=tmp_path / "vault-pass",
                      known_hosts=None, identity=None, verify=verify)


def test_every_step_kind_has_a_handler() -> None:
    assert set(STEPS) == set(StepKind)
    assert not STEPS[StepKind.SNAPSHOT].needs_snapshot and STEPS[StepKind.FILES].needs_snapshot


def test_a_failed_step_is_where_the_resume_starts(tmp_path: Path, repo: SnapshotRepository,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    failing = [True]

    def prepare(run: object, step: Step, index: int) -> str:
        ran.append(f"{step.id}#{index}")
        return "ok=1 changed=1"

    def files(run: StepRun, step: Step, index: int) -> str:
        ran.append(f"{step.id}#{index} from {run.snapshot().id}")
        if failing[0]:
            raise EvacuateError("the target is full")
        return "3 files"

    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(prepare))
    monkeypatch.setitem(STEPS, StepKind.FILES, StepHandler(files))
    verified: list[str] = []
    reporter = Reporter()
    with pytest.raises(EvacuateError, match="full"):
        run_plan(_context(tmp_path, repo, verified), reporter, use_snapshot="latest")
    journal = Journal.open(tmp_path / "journal.json", "web-to-new", resume=True)
    assert journal.done("snapshot") and journal.done("prepare") and not journal.done("files")
    assert journal.snapshot_id == "S1"
    # the snapshot is loaded while the packages install
    assert reporter.lines == ["snapshot", "prepare", "snapshot done: using snapshot S1",
                              "prepare done: ok=1 changed=1", "files"]

    failing[0] = False
    reporter = Reporter()
    summary = run_plan(_context(tmp_path, repo, verified), reporter, resume=True)
    assert reporter.lines == ["snapshot skipped", "prepare skipped", "files",
                              "files done: 3 files", "verify", "verify done: all checks passed"]
    assert ran == ["prepare#2", "files#3 from S1", "files#3 from S1"] and verified == ["S1"]
    assert summary.snapshot_id == "S1" and set(summary.steps) == {"files", "verify"}
    assert all(Journal.open(tmp_path / "journal.json", "web-to-new", resume=True).done(s.id)
               for s in PLAN_STEPS)

    reporter = Reporter()  # without --resume: everything again
    run_plan(_context(tmp_path, repo, verified), reporter, use_snapshot="S1")
    assert "snapshot skipped" not in reporter.lines and "verify done: all checks passed" in \
        reporter.lines


def test_a_failed_verification_is_not_done(tmp_path: Path, repo: SnapshotRepository,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in (StepKind.PREPARE, StepKind.FILES):
        monkeypatch.setitem(STEPS, kind, StepHandler(lambda *_a: "ok"))
    context = _context(tmp_path, repo, [])
    context.verify = lambda _m, _t: (False, "2 checks failed", None)
    with pytest.raises(VerifyFailed, match="verification of new failed: 2 checks failed"):
        run_plan(context, Reporter(), use_snapshot="latest")
    assert not Journal.open(tmp_path / "journal.json", "web-to-new", resume=True).done("verify")


def test_the_snapshot_is_taken_while_the_packages_install(
        tmp_path: Path, repo: SnapshotRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    installing = threading.Event()

    def prepare(run: StepRun, step: Step, index: int) -> str:
        installing.set()
        return f"installed as step {index}"

    def take() -> SnapshotManifest:
        assert installing.wait(30), "the packages did not start beside the snapshot"
        return repo.load(repo.find("web", "S1"))

    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(prepare))
    monkeypatch.setitem(STEPS, StepKind.FILES, StepHandler(lambda *_a: "files"))
    reporter = Reporter()
    run_plan(_context(tmp_path, repo, [], take=take), reporter)
    assert reporter.lines == ["snapshot", "prepare", "snapshot done: snapshot S1: 0.0 s",
                              "prepare done: installed as step 2", "files", "files done: files",
                              "verify", "verify done: all checks passed"]  # prepare ran once


def test_a_failed_snapshot_stops_the_packages(tmp_path: Path, repo: SnapshotRepository,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = []

    def prepare(run: StepRun, step: Step, index: int) -> str:
        cancel = run.cancel
        assert cancel is not None
        deadline = time.monotonic() + 30
        while not cancel() and time.monotonic() < deadline:
            time.sleep(0.01)
        stopped.append(cancel())
        raise EvacuateError("the playbook was cancelled")

    def take() -> SnapshotManifest:
        raise EvacuateError("the source went away")

    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(prepare))
    with pytest.raises(EvacuateError, match="source went away"):
        run_plan(_context(tmp_path, repo, [], take=take), Reporter())
    assert stopped == [True]
    journal = Journal.open(tmp_path / "journal.json", "web-to-new", resume=True)
    assert not journal.done("snapshot") and not journal.done("prepare")


def test_the_files_are_staged_while_the_packages_install(
        tmp_path: Path, repo: SnapshotRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    staging, installed = threading.Event(), threading.Event()
    got: list[object] = []

    def prepare(run: StepRun, step: Step, index: int) -> str:
        assert staging.wait(30), "the files were not staged beside the packages"
        installed.set()
        return "installed"

    def stage(run: StepRun, step: Step, stop: object) -> str:
        staging.set()
        assert not installed.is_set()
        return f"archive of {run.snapshot().id} for {step.id}"

    def files(run: StepRun, step: Step, index: int) -> str:
        got.append(run.ahead.pop(step.id, None))
        return "files"

    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(prepare))
    monkeypatch.setitem(STEPS, StepKind.FILES, StepHandler(files, ahead=stage))
    reporter = Reporter()
    run_plan(_context(tmp_path, repo, []), reporter, use_snapshot="latest")
    assert got == ["archive of S1 for files"]
    assert reporter.lines[:4] == ["snapshot", "prepare", "snapshot done: using snapshot S1",
                                  "prepare done: installed"]

    got.clear()  # a resume after the packages stages nothing ahead: the step streams
    journal = Journal.open(tmp_path / "journal.json", "web-to-new", resume=True)
    journal.failed("files", "killed", "")
    staging.clear()
    run_plan(_context(tmp_path, repo, []), Reporter(), resume=True)
    assert got == [None] and not staging.is_set()


def test_a_failed_prepare_stops_the_staging_and_its_failure_is_raised(
        tmp_path: Path, repo: SnapshotRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[bool] = []

    def prepare(run: StepRun, step: Step, index: int) -> str:
        raise EvacuateError("apt-get failed")

    def stage(run: StepRun, step: Step, stop) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 30
        while not stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        stopped.append(stop())
        raise StagingStopped("stopped")

    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(prepare))
    monkeypatch.setitem(STEPS, StepKind.FILES, StepHandler(lambda *_a: "files", ahead=stage))
    with pytest.raises(EvacuateError, match="apt-get failed"):
        run_plan(_context(tmp_path, repo, []), Reporter(), use_snapshot="latest")
    assert stopped == [True]
    journal = Journal.open(tmp_path / "journal.json", "web-to-new", resume=True)
    assert journal.done("snapshot") and not journal.done("prepare")


def test_a_staging_that_fails_is_a_warning_and_the_files_step_streams(
        tmp_path: Path, repo: SnapshotRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[object] = []

    def stage(run: StepRun, step: Step, stop: object) -> None:
        raise EvacuateError("new: not enough disk space for the files staged")

    def files(run: StepRun, step: Step, index: int) -> str:
        got.append(run.ahead.pop(step.id, None))
        return "files"

    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(lambda *_a: "installed"))
    monkeypatch.setitem(STEPS, StepKind.FILES, StepHandler(files, ahead=stage))
    summary = run_plan(_context(tmp_path, repo, []), Reporter(), use_snapshot="latest")
    assert got == [None]
    assert summary.warnings == ["files: not done beside the packages (new: not enough disk "
                                "space for the files staged); done in its turn"]


def test_an_unknown_step_kind_is_an_error(tmp_path: Path, repo: SnapshotRepository,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(STEPS, StepKind.FILES)
    monkeypatch.setitem(STEPS, StepKind.PREPARE, StepHandler(lambda *_a: "ok"))
    with pytest.raises(EvacuateError, match="unknown step kind 'files'"):
        run_plan(_context(tmp_path, repo, []), Reporter(), use_snapshot="latest")
