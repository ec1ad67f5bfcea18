"""One report from a verification before and one after a reboot of the target (pure).

A server that only works until its next boot — a service started by hand but not enabled,
a setting applied live but not persisted — passes the first verification and fails the
second. :func:`merge_reboot` folds both into one :class:`VerifyReport` (so that the table,
JSON, JUnit and HTML reports need nothing new): each check as found after the reboot,
its detail saying what changed across the reboot, plus ``reboot`` checks for the reboot
itself (a new boot, systemd's state once booted). The merged report fails when either
verification failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from evacuate.verify.model import Check, Status, VerifyReport, failed, judged, report_to_json
from evacuate.verify.reboot import RebootOutcome

UNTIL_NEXT_BOOT = "passed before the reboot, fails after it (works until its next boot)"
FIXED_BY_BOOT = "failed before the reboot, passes after it"
BEFORE_ONLY = "checked before the reboot only"
GOOD = (Status.PASS, Status.ACCEPTED)


def lost_on_reboot(before: VerifyReport, after: VerifyReport) -> list[str]:
    """Ids of the checks that passed (or were accepted) before the reboot and fail after
    it, in the after report's order."""
    was = {c.id: c.status for c in before.checks}
    return [c.id for c in after.checks if c.failed and was.get(c.id) in GOOD]


def _note(note: str, detail: str) -> str:
    return f"{note}: {detail}" if detail else note


def _across(check: Check, earlier: Check | None) -> Check:
    if earlier is None:
        return check
    if check.failed and earlier.status in GOOD:
        return replace(check, detail=_note(UNTIL_NEXT_BOOT, check.detail))
    if earlier.failed and not check.failed:  # the first verification failed: it still counts
        return replace(check, status=Status.FAIL, expected=earlier.expected,
                       found=earlier.found, detail=_note(FIXED_BY_BOOT, earlier.detail))
    return check


def reboot_checks(outcome: RebootOutcome) -> list[Check]:
    """The reboot's own checks: the host came back with a new boot, and systemd finished
    booting into ``running`` (degraded: the failed units are named; a host that was
    already degraded before the reboot is judged by the units that failed only now)."""
    came_back = judged(outcome.after.boot_id != outcome.before.boot_id, "reboot", "new boot",
                       outcome.before.boot_id, outcome.after.boot_id,
                       f"answered again after {outcome.seconds_to_answer:g} s")
    state = outcome.system_state
    was = outcome.before.system_state
    if state == "running":
        booted = judged(True, "reboot", "system state", was, state,
                        f"booted in {outcome.seconds_to_settle:g} s")
    elif not outcome.settled:
        booted = failed("reboot", "system state", was, state,
                        f"systemd had not finished booting {outcome.seconds_to_settle:g} s "
                        "after the reboot")
    else:
        units = ", ".join(outcome.failed_units) or "none listed"
        booted = judged(was == "degraded", "reboot", "system state", was, state,
                        f"failed units after the reboot: {units}")
    return [came_back, booted]


def merge_reboot(before: VerifyReport, after: VerifyReport,
                 outcome: RebootOutcome) -> VerifyReport:
    """The after-reboot report with each check judged across the reboot (see the module
    docstring), the checks only the first verification made, and the reboot's checks."""
    earlier = {c.id: c for c in before.checks}
    later = {c.id for c in after.checks}
    checks = [_across(c, earlier.get(c.id)) for c in after.checks]
    checks += [replace(c, detail=_note(BEFORE_ONLY, c.detail)) for c in before.checks
               if c.id not in later]
    timings = {f"before reboot: {k}": v for k, v in before.timings.items()}
    timings |= {"reboot": outcome.seconds_to_settle} | after.timings
    return replace(after, started=before.started, checks=(*reboot_checks(outcome), *checks),
                   duration=round(before.duration + outcome.seconds_to_settle
                                  + after.duration, 3), timings=timings)


@dataclass(frozen=True)
class RebootVerification:
    """A verification across a reboot: both reports, the reboot, and the merged report
    (what is shown, saved and judged)."""

    before: VerifyReport
    after: VerifyReport
    outcome: RebootOutcome
    merged: VerifyReport

    @property
    def lost(self) -> list[str]:
        return lost_on_reboot(self.before, self.after)

    def passes(self, strict: bool = False) -> bool:
        return self.merged.passes(strict)

    def summary(self) -> str:
        """One line on what the reboot changed."""
        if self.lost:
            return (f"works until its next boot: {len(self.lost)} checks passed before the "
                    f"reboot and fail after it: {', '.join(self.lost)}")
        return (f"after the reboot (back in {self.outcome.seconds_to_answer:g} s, "
                f"{self.outcome.system_state}): nothing that passed before fails")


def verification_to_json(result: RebootVerification) -> dict[str, Any]:
    """The merged report as JSON with an ``after_reboot`` section."""
    outcome = result.outcome
    return report_to_json(result.merged) | {"after_reboot": {
        "lost_on_reboot": result.lost, "before_ok": result.before.ok,
        "after_ok": result.after.ok, "boot_id_before": outcome.before.boot_id,
        "boot_id_after": outcome.after.boot_id, "system_state": outcome.system_state,
        "failed_units": list(outcome.failed_units),
        "seconds_to_answer": outcome.seconds_to_answer,
        "seconds_to_settle": outcome.seconds_to_settle}}


def merge(before: VerifyReport, after: VerifyReport,
          outcome: RebootOutcome) -> RebootVerification:
    return RebootVerification(before, after, outcome, merge_reboot(before, after, outcome))
