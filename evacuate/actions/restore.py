"""Actions for the day after: restore a host from its snapshot with the source gone, rehearse
that restore on a throwaway target, show how fresh the snapshots are, schedule them."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evacuate.actions.plan import disk_source, make_plan
from evacuate.actions.run import run_saved_plan
from evacuate.actions.snapshot import snapshot_rescued_disk
from evacuate.config import Config
from evacuate.errors import UsageError
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.plan.model import PlanSource, RebuildPlan
from evacuate.rebuild.run import RunReporter, RunSummary
from evacuate.snapshot.engine import SnapshotProgress
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir, read_json, write_json
from evacuate.transport import parse_host_spec


def restore_host(source: HostRef, target: HostRef, repo: SnapshotRepository,
                 options: ConnectOptions, state: StateDir, config: Config | None,
                 reporter: RunReporter, *, snapshot: str = "latest", resume: bool = False,
                 origin: PlanSource | None = None) -> tuple[RebuildPlan, RunSummary]:
    """Rebuild ``source`` on ``target`` from a snapshot only: the source is never contacted."""
    ref = repo.find(source.file_label, snapshot)  # UsageError when there is none
    plan, project = make_plan(source, target, repo, options, state, config, snapshot=ref.id,
                              origin=origin)
    summary = run_saved_plan(plan, project.parent, repo, None, target, options, state, config,
                             reporter, resume=resume, use_snapshot=ref.id)
    return plan, summary


def restore_from_disk(root: Path, label: str, target: HostRef, repo: SnapshotRepository,
                      options: ConnectOptions, state: StateDir, config: Config | None,
                      reporter: RunReporter, progress: SnapshotProgress | None = None,
                      ) -> tuple[SnapshotManifest, RebuildPlan, RunSummary]:
    """The machine was carried back to the office: snapshot its rescued disk (mounted at
    ``root``, never written; databases dumped from servers started on a copy) into ``repo``
    under ``label``, then rebuild it on ``target`` from that snapshot and verify."""
    manifest = snapshot_rescued_disk(root, label, repo, config, progress)
    plan, summary = restore_host(HostRef(label, parse_host_spec("local")), target, repo,
                                 options, state, config, reporter, snapshot=manifest.id,
                                 origin=disk_source(label))
    return manifest, plan, summary


@dataclass(frozen=True)
class HostStatus:
    host: str
    last_snapshot: str | None
    age: timedelta | None
    size: int
    new_bytes: int
    last_rehearsal: str | None
    rehearsal_ok: bool | None
    stale: bool


def snapshot_status(repo: SnapshotRepository, state: StateDir, hosts: list[str],
                    max_age: timedelta | None, now: datetime | None = None) -> list[HostStatus]:
    now = now or datetime.now(UTC)
    refs = repo.refs()
    names = sorted(set(hosts) | {r.host for r in refs})
    rehearsals = _rehearsals(state)
    result = []
    for host in names:
        mine = [r for r in refs if r.host == host]
        if not mine:
            result.append(HostStatus(host, None, None, 0, 0, *rehearsals.get(host, (None, None)),
                                     stale=True))
            continue
        last = mine[-1]
        manifest = repo.load(last)
        age = now - last.created
        result.append(HostStatus(
            host, last.id, age, manifest.totals.bytes + manifest.totals.dump_bytes,
            manifest.totals.new_bytes, *rehearsals.get(host, (None, None)),
            stale=max_age is not None and age > max_age))
    return result


def _rehearsals(state: StateDir) -> dict[str, tuple[str | None, bool | None]]:
    path = state.root / "rehearsals.json"
    if not path.exists():
        return {}
    data = read_json(path)
    return {host: (entry.get("time"), entry.get("ok")) for host, entry in data.items()}


def record_rehearsal(state: StateDir, host: str, ok: bool, report: Path | None) -> None:
    path = state.root / "rehearsals.json"
    data = read_json(path) if path.exists() else {}
    data[host] = {"time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "ok": ok,
                  "report": str(report) if report else None}
    write_json(path, data)


def cron_schedule(every: str) -> str:
    """Turn 15m / 2h / 1d into a cron schedule; UsageError for anything cron cannot do."""
    unit, number = every[-1:], every[:-1]
    if not number.isdigit() or int(number) < 1:
        raise UsageError(f"--every {every!r}: expected a number and m, h or d (e.g. 15m)")
    n = int(number)
    if unit == "m" and 60 % n == 0:
        return f"*/{n} * * * *" if n > 1 else "* * * * *"
    if unit == "h" and 24 % n == 0:
        return f"0 */{n} * * *" if n > 1 else "0 * * * *"
    if unit == "d" and n == 1:
        return "0 3 * * *"
    raise UsageError(f"--every {every!r}: use minutes dividing 60, hours dividing 24, or 1d")


def schedule_line(host: str, every: str, config: Path | None, state: StateDir,
                  user: str = "root") -> str:
    """The /etc/cron.d line that snapshots ``host`` from this controller."""
    exe = Path(sys.executable).parent / "evacuate"
    # --notify: a scheduled snapshot that fails tells evacuate.yml's notify.urls
    parts = [str(exe), "snapshot", host, "--notify", "--state-dir", str(state.root)]
    if config is not None:
        parts += ["-c", str(config.absolute())]
    log = state.root / "logs" / f"schedule-{host}.log"
    return (f"{cron_schedule(every)} {user} {shlex.join(parts)} >> {shlex.quote(str(log))} 2>&1")


def install_schedule(host: str, line: str, cron_dir: Path = Path("/etc/cron.d")) -> Path:
    """Write (or replace) the controller's cron file for ``host``; return its path."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in host)
    path = cron_dir / f"evacuate-{safe}"
    path.write_text("# written by 'evacuate schedule': snapshots of a host, taken from this "
                    "controller\nSHELL=/bin/sh\nPATH=/usr/local/bin:/usr/bin:/bin\n" + line + "\n")
    path.chmod(0o644)
    return path
