"""Rehearse a restore: each host's latest snapshot onto a throwaway target, verified, with
JSON, JUnit and HTML reports — proof that the backups restore, before the day they must.

By default the restored target is then rebooted and verified again (``reboot_timeout``;
None: not rebooted): the target is throwaway, so a reboot costs only its time, and a
restore that works only until the next boot is not a restore to rely on."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from evacuate.actions.restore import record_rehearsal, restore_host
from evacuate.actions.verify import verify_across_reboot
from evacuate.config import Config
from evacuate.errors import EvacuateError
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab.lab import Lab, LabSpec, default_lab
from evacuate.rebuild.run import VerifyFailed
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir
from evacuate.verify.after_reboot import verification_to_json
from evacuate.verify.html_report import write_html
from evacuate.verify.junit import write_junit
from evacuate.verify.model import VerifyReport, report_to_json
from evacuate.verify.reboot import DEFAULT_REBOOT_TIMEOUT

REHEARSAL_LAB = ("evh", 9)


class _Quiet:
    def step(self, *args: object) -> None: ...
    def step_done(self, *args: object) -> None: ...
    def task(self, *args: object) -> None: ...
    def advance(self, count: int) -> None: ...
    def warning(self, message: str) -> None: ...


def rehearse_hosts(hosts: list[HostRef], repo: SnapshotRepository, config: Config | None,
                   state: StateDir, connect: ConnectOptions, resolve: Callable[[str], HostRef],
                   target_spec: str | None, reports: Path, scratch: Path, *,
                   reboot_timeout: float | None = DEFAULT_REBOOT_TIMEOUT) -> dict[str, bool]:
    """Restore and verify each host (then reboot it and verify again, unless
    ``reboot_timeout`` is None); return host → passed. Reports go to ``reports``."""
    results = {}
    for source in hosts:
        with ExitStack() as stack:
            if target_spec is not None:
                target, options = resolve(target_spec), connect
            else:
                lab = _throwaway_lab(scratch / source.file_label)
                stack.callback(lab.down)
                lab.up(timeout=180)
                target = HostRef("rehearsal-target", _spec(lab))
                options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
            results[source.label] = _rehearse_one(
                source, target, repo, options, config, state, reports,
                StateDir(scratch / source.file_label / "state"), reboot_timeout)
    return results


def _spec(lab: Lab):  # type: ignore[no-untyped-def]
    from evacuate.transport import parse_host_spec

    return parse_host_spec(lab.ssh_spec(lab.spec.hosts[0]))


def _throwaway_lab(folder: Path) -> Lab:
    blank = default_lab(*REHEARSAL_LAB).hosts[1]
    return Lab(LabSpec(lab_id=REHEARSAL_LAB[0], index=REHEARSAL_LAB[1], hosts=(blank,)),
               StateDir(folder / "lab"))


def _rehearse_one(source: HostRef, target: HostRef, repo: SnapshotRepository,
                  options: ConnectOptions, config: Config | None, state: StateDir,
                  reports: Path, scratch_state: StateDir, reboot_timeout: float | None) -> bool:
    """Restore ``source`` onto ``target``; its run's verification (one, not a second pass
    after it) is the rehearsal's report, and with ``reboot_timeout`` the target is rebooted
    and verified again."""
    report: VerifyReport | None = None
    error: EvacuateError | None = None
    try:
        _plan, summary = restore_host(source, target, repo, options, scratch_state, config,
                                      _Quiet())
        report = summary.verify if isinstance(summary.verify, VerifyReport) else None
    except VerifyFailed as failed:
        report = failed.report if isinstance(failed.report, VerifyReport) else None
        error = None if report is not None else failed
    except EvacuateError as failure:
        error = failure
    stem = reports / f"rehearsal-{source.file_label}"
    if report is None:
        message = error or EvacuateError("the restore ended without a verification report")
        stem.with_suffix(".error.txt").write_text(f"{message}\n")
        record_rehearsal(state, source.file_label, False, stem.with_suffix(".error.txt"))
        return False
    if reboot_timeout is None:
        data = report_to_json(report)
    else:
        try:
            across = verify_across_reboot(source, target, options, repo, config,
                                          source_reachable=False, reboot_timeout=reboot_timeout,
                                          before=report, state=scratch_state)
        except EvacuateError as failure:  # refused, or the target did not come back
            stem.with_suffix(".error.txt").write_text(f"{failure}\n")
            record_rehearsal(state, source.file_label, False, stem.with_suffix(".error.txt"))
            return False
        report, data = across.merged, verification_to_json(across)
    stem.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    write_junit(report, stem.with_suffix(".junit.xml"))
    write_html(report, stem.with_suffix(".html"))
    passed = report.passes(strict=True)  # a rehearsal also fails on what is not verified
    record_rehearsal(state, source.file_label, passed, stem.with_suffix(".json"))
    return passed
