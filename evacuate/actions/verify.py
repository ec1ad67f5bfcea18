"""Action: verify a target against its source's snapshot, and keep the report as JSON in
the state directory (``reports/verify-<target>-<time>.json``).

``run`` and ``restore`` call :func:`verify_target` at their end with the manifest they
restored from; ``verify`` loads the manifest itself (``--snapshot``, default latest).
``verify --after-reboot`` and ``rehearse`` call :func:`verify_across_reboot`: verify,
reboot the target, verify again; never the source (:func:`refuse_rebooting_the_source`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evacuate.config import Config
from evacuate.config.model import VerifySettings
from evacuate.errors import EvacuateError, UsageError
from evacuate.hostref import ConnectOptions, HostRef, connect
from evacuate.plan.model import RebuildPlan
from evacuate.plan.persist import plan_from_json
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir, read_json, write_json
from evacuate.verify.after_reboot import RebootVerification, merge
from evacuate.verify.engine import VerifyOptions, verify_against_snapshot
from evacuate.verify.model import VerifyReport, report_to_json
from evacuate.verify.reboot import DEFAULT_REBOOT_TIMEOUT, read_boot_state, reboot_and_wait

__all__ = ["VerifyOptions", "address_of", "load_manifest", "refuse_rebooting_the_source",
           "save_report", "verify_across_reboot", "verify_target"]


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
    path = state.root / "plans" / name / "plan.json"
    if not path.exists():
        return None
    try:
        return plan_from_json(read_json(path))
    except (KeyError, TypeError, ValueError, OSError):
        return None


def refuse_rebooting_the_source(source: HostRef, target: HostRef, options: ConnectOptions,
                                *, ask_source: bool = True) -> None:
    """Raise UsageError when ``target`` is ``source``: the same address and port (or both
    this machine), or, when ``ask_source``, both answer from one running system (the same
    machine id and boot id: one host under two names). A source that cannot be asked is
    taken to be another host (the target answers where it does not)."""
    a, b = source.spec, target.spec
    same_spec = (a.is_local and b.is_local) or (
        not a.is_local and not b.is_local and a.host.lower() == b.host.lower()
        and (a.port or 22) == (b.port or 22))
    refusal = f"{target.label} is the source {source.label}: evacuate never reboots the source"
    if same_spec:
        raise UsageError(refusal)
    if not ask_source:
        return
    try:
        with connect(source, options) as host:
            source_boot = read_boot_state(host)
    except EvacuateError:
        return
    with connect(target, options) as host:
        if read_boot_state(host).same_system(source_boot):
            raise UsageError(f"{refusal} (both answer with machine id "
                             f"{source_boot.machine_id[:12]} and the same boot)")


def verify_across_reboot(source: HostRef, target: HostRef, options: ConnectOptions,
                         repo: SnapshotRepository, config: Config | None, *,
                         manifest: SnapshotManifest | None = None, snapshot: str = "latest",
                         verify_options: VerifyOptions | None = None,
                         target_address: str | None = None, source_reachable: bool = True,
                         reboot_timeout: float = DEFAULT_REBOOT_TIMEOUT,
                         progress: Callable[[str], None] | None = None,
                         before: VerifyReport | None = None,
                         state: StateDir | None = None) -> RebootVerification:
    """Verify ``target`` (see :func:`verify_target`), reboot it, wait (``reboot_timeout``
    seconds) for a new boot and for systemd to settle, and verify again: a server that only
    works until its next boot fails. Raise UsageError when ``target`` is the source (before
    anything is done), RebootFailed when it does not come back. ``before``: a verification
    just made (a run's own), used instead of verifying a first time."""
    refuse_rebooting_the_source(source, target, options, ask_source=source_reachable)
    manifest = manifest or load_manifest(repo, source, snapshot)

    def once() -> VerifyReport:
        return verify_target(source, target, options, repo, config, manifest=manifest,
                             verify_options=verify_options, target_address=target_address,
                             source_reachable=source_reachable, state=state)

    say = progress or (lambda _message: None)
    before = before or once()
    say(f"verified {target.label} before the reboot: {before.counts()['fail']} failed")
    outcome = reboot_and_wait(lambda: connect(target, options), timeout=reboot_timeout,
                              progress=say)
    say(f"verifying {target.label} again after the reboot")
    return merge(before, once(), outcome)


def save_report(state: StateDir, report: VerifyReport) -> Path:
    """Write the report as JSON under ``<state>/reports``; return its path."""
    label = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in report.target)
    stamp = report.started.replace(":", "").replace("-", "")
    return write_json(state.sub("reports") / f"verify-{label}-{stamp}.json",
                      report_to_json(report))
