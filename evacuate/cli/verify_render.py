"""Terminal rendering of a verification report, through the console helpers: one table
grouped by area, failures first with expected vs found; passing checks are counted per
area (``--all`` lists them too)."""

from __future__ import annotations

from evacuate.cli import console
from evacuate.cli.console import Console
from evacuate.verify.model import Status, VerifyReport

_MARK = {Status.FAIL: "[bold red]FAIL[/]", Status.PASS: "[green]ok[/]",
         Status.SKIP: "[yellow]skip[/]", Status.ACCEPTED: "[blue]accepted[/]",
         Status.UNVERIFIED: "[bold yellow]not verified[/]"}


def _clip(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_report(report: VerifyReport, *, show_all: bool = False,
                  out: Console | None = None) -> None:
    """Print ``report`` as a table, a line per item not verified and a one-line verdict
with the coverage."""
    target = out or console.out()
    rows = []
    for area, checks in report.by_area():
        shown = [c for c in checks if show_all or c.status is not Status.PASS]
        for check in shown:
            rows.append((area, console.markup(_MARK[check.status]), _clip(check.name, 60),
                         _clip(check.expected), _clip(check.found), _clip(check.detail, 90)))
        hidden = sum(1 for c in checks if c.status is Status.PASS and c not in shown)
        if hidden:
            rows.append((area, console.markup(_MARK[Status.PASS]), f"{hidden} checks passed",
                         "", "", ""))
    target.print(console.table(
        f"verify {report.target} against {report.source} (snapshot {report.snapshot})",
        ("area", "status", "object", "expected (source)", "found (target)", "detail"), rows))
    for check in report.not_verified():  # what no check covers, one line each
        target.print(f"[bold yellow]not verified:[/] {console.escape(check.name)}: "
                     f"{console.escape(check.detail)}", highlight=False, soft_wrap=True)
    counts = report.counts()
    verdict = ("[bold green]the target is the same server[/]" if report.ok
               else f"[bold red]{counts['fail']} checks failed[/]")
    unverified = (f", [bold yellow]{counts['unverified']} not verified[/]"
                  if counts["unverified"] else "")
    target.print(f"{verdict}: {counts['pass']} passed, {counts['fail']} failed, "
                 f"{counts['accepted']} accepted, {counts['skip']} skipped{unverified}; "
                 f"{report.coverage.summary()} of what the inventory saw; in "
                 f"{report.duration:.1f} s", highlight=False)
