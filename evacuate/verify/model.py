"""Verification results as data: a :class:`Check` per compared object, a :class:`VerifyReport`
for the whole run, and the rule that turns configured accepted differences into ``accepted``.

A check is identified by ``area:name`` (e.g. ``services:notes.service``,
``data:/srv/data/public/a.txt``); evacuate.yml's ``verify.accept`` entries name checks by
that id, with shell-style wildcards (``data:/srv/cache/*``).

What the source's inventory saw and no check covers is a ``not verified`` check (status
``unverified``), and the report's :class:`Coverage` counts what was checked of what was
seen. Not-verified items alone do not fail a verification; they fail a *strict* one
(``verify --strict``, ``rehearse``): see :meth:`VerifyReport.passes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from evacuate.config.model import AcceptedDifference

AREAS = ("inventory", "packages", "users", "groups", "sudoers", "cron", "services", "listeners",
         "config", "data", "databases", "containers", "web", "answers", "mail", "custom")
"""Areas in report order."""


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ACCEPTED = "accepted"
    UNVERIFIED = "unverified"  # seen by the inventory, checked by nothing

    @property
    def label(self) -> str:
        return "not verified" if self is Status.UNVERIFIED else self.value


@dataclass(frozen=True)
class Check:
    """The outcome of comparing one object: what the source had (``expected``), what the
    target has (``found``) and, for a failure, a one-line ``detail`` saying what differs."""

    area: str
    name: str
    status: Status
    expected: str = ""
    found: str = ""
    detail: str = ""
    duration: float = 0.0

    @property
    def id(self) -> str:
        return f"{self.area}:{self.name}"

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL


def passed(area: str, name: str, expected: str = "", found: str = "", detail: str = "",
           duration: float = 0.0) -> Check:
    return Check(area, name, Status.PASS, expected, found, detail, duration)


def failed(area: str, name: str, expected: str = "", found: str = "", detail: str = "",
           duration: float = 0.0) -> Check:
    return Check(area, name, Status.FAIL, expected, found, detail, duration)


def skipped(area: str, name: str, detail: str, duration: float = 0.0) -> Check:
    return Check(area, name, Status.SKIP, detail=detail, duration=duration)


def not_verified(area: str, name: str, detail: str) -> Check:
    """Something the inventory saw that no check verifies, and why."""
    return Check(area, name, Status.UNVERIFIED, detail=detail)


def judged(ok: bool, area: str, name: str, expected: str = "", found: str = "",
           detail: str = "", duration: float = 0.0) -> Check:
    """A pass when ``ok``, else a failure; ``detail`` is kept either way (as info)."""
    return Check(area, name, Status.PASS if ok else Status.FAIL, expected, found, detail,
                 duration)


def apply_accepted(checks: Iterable[Check], accept: Sequence[AcceptedDifference]) -> list[Check]:
    """Turn each failed check whose id (or bare name) matches an accepted difference into
    ``accepted``, with the reason in its detail. Other checks are returned unchanged."""
    result = []
    for check in checks:
        if check.failed:
            for rule in accept:
                if fnmatchcase(check.id, rule.check) or fnmatchcase(check.name, rule.check):
                    note = f"accepted: {rule.reason}"
                    check = replace(check, status=Status.ACCEPTED,
                                    detail=f"{note}; {check.detail}" if check.detail else note)
                    break
        result.append(check)
    return result


def area_rank(area: str) -> int:
    return AREAS.index(area) if area in AREAS else len(AREAS)


STATUS_ORDER = {Status.FAIL: 0, Status.UNVERIFIED: 1, Status.ACCEPTED: 2, Status.SKIP: 3,
                Status.PASS: 4}


@dataclass(frozen=True)
class Coverage:
    """Of the ``seen`` things the source's inventory found (listening ports, enabled units,
    data stores, data trees), how many a check verified; the rest are not verified."""

    seen: int = 0
    checked: int = 0

    @property
    def not_verified(self) -> int:
        return self.seen - self.checked

    def summary(self) -> str:
        """E.g. ``coverage 41/43 (95%)``."""
        percent = 100 if not self.seen else int(100 * self.checked / self.seen)
        return f"coverage {self.checked}/{self.seen} ({percent}%)"


@dataclass(frozen=True)
class VerifyReport:
    """Every check of one verification, with where and when it ran.

    ``timings`` maps a phase (inventory, files, databases, web, ...) to its seconds.
    """

    source: str
    target: str
    snapshot: str
    started: str  # ISO 8601 UTC
    duration: float
    checks: tuple[Check, ...]
    timings: dict[str, float] = field(default_factory=dict)
    source_os: str = ""
    target_os: str = ""
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def ok(self) -> bool:
        """No check failed (not-verified items do not count: see :meth:`passes`)."""
        return not any(c.failed for c in self.checks)

    def passes(self, strict: bool = False) -> bool:
        """No check failed and, when ``strict``, nothing the inventory saw is unverified."""
        return self.ok and not (strict and self.not_verified())

    def not_verified(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.UNVERIFIED]

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for check in self.checks:
            counts[check.status.value] += 1
        return counts

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    def by_area(self) -> list[tuple[str, list[Check]]]:
        """Checks grouped by area (report order), failures first within each area."""
        groups: dict[str, list[Check]] = {}
        for check in self.checks:
            groups.setdefault(check.area, []).append(check)
        return [(area, sorted(groups[area], key=lambda c: STATUS_ORDER[c.status]))
                for area in sorted(groups, key=area_rank)]


def report_to_json(report: VerifyReport) -> dict[str, Any]:
    """The report as JSON-ready data (what ``--json`` prints)."""
    data = asdict(report)
    data["checks"] = [asdict(c) | {"status": c.status.value, "id": c.id} for c in report.checks]
    data["ok"] = report.ok
    data["counts"] = report.counts()
    data["coverage"] = data["coverage"] | {"not_verified": report.coverage.not_verified}
    return data
