"""Action: verify a target against its source's snapshot, and keep the report as JSON in
the state directory (``reports/verify-<target>-<time>.json``).

``run`` and ``restore`` call :func:`verify_target` at their end with the manifest they
restored from; ``verify`` loads the manifest itself (``--snapshot``, default latest).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evacuate.config import Config
from evacuate.config.model import VerifySettings
from evacuate.errors import EvacuateError
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.plan.model import RebuildPlan
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir, write_json
from evacuate.verify.engine import VerifyOptions, verify_against_snapshot
from evacuate.verify.model import VerifyReport, report_to_json

__all__ = ["VerifyOptions", "address_of", "load_manifest", "save_report", "verify_target"]


def address_of(ref: HostRef) -> str:
    """The address the controller reaches ``ref`` at for HTTP and TCP checks."""
    return "127.0.0.1" if ref.spec.is_local else ref.spec.host


def load_manifest(repo: SnapshotRepository, source: HostRef,
                  snapshot: str = "latest") -> SnapshotManifest:
    """The source's snapshot ``snapshot`` (an id, a unique id prefix or ``latest``); raise
    UsageError when the store holds none."""
    return repo.load(repo.find(source.file_label, snapshot))


def verify_target(source: HostRef, target: HostRef, options: ConnectOptions,
                  repo: SnapshotRepository, config: Config | None, *,
                  manifest: SnapshotManifest | None = None, snapshot: str = "latest",
                  verify_options: VerifyOptions | None = None,
                  target_address: str | None = None, source_reachable: bool = True,
                  progress: Callable[[str], None] | None = None,
                  state: StateDir | None = None) -> VerifyReport:
    """Verify ``target`` against ``manifest`` (default: ``source``'s snapshot ``snapshot``
    from ``repo``), with the config's ``verify`` settings. ``source_reachable`` False: never
    ask the source (``restore``: the source is gone). Raise TransportError when the target
    cannot be reached, UsageError when there is no snapshot. ``state``: where to find the
    plan of this source and target (its id remaps and the target's own accounts)."""
    manifest = manifest or load_manifest(repo, source, snapshot)
    plan = saved_plan(state, f"{manifest.host}-to-{target.file_label}") if state else None
    settings = config.verify if config is not None else VerifySettings()
    with connect(target, options) as transport:
        return verify_against_snapshot(
            manifest, transport, target_address=target_address or address_of(target),
            source_address=address_of(source) if source_reachable else None,
            target_label=target.label, settings=settings, options=verify_options,
            read_blob=repo.blobs.read_blob, progress=progress, plan=plan)


def saved_plan(state: StateDir, name: str) -> RebuildPlan | None:
    """The saved plan ``name``, or None when there is none (or it cannot be read)."""
    from evacuate.actions.plan import load_plan

    if not (state.root / "plans" / name / "plan.json").exists():
        return None
    try:
        return load_plan(state, name)[0]
    except EvacuateError:
        return None


def save_report(state: StateDir, report: VerifyReport) -> Path:
    """Write the report as JSON under ``<state>/reports``; return its path."""
    label = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in report.target)
    stamp = report.started.replace(":", "").replace("-", "")
    return write_json(state.sub("reports") / f"verify-{label}-{stamp}.json",
                      report_to_json(report))
