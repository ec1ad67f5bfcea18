"""Action: what ``evacuate run`` would do, without doing any of it: the steps (those a
``--resume`` would skip marked), the Ansible tasks of each playbook step (``ansible-playbook
--list-tasks`` on the rendered project: no host is contacted) and the data that would move.
Nothing is written anywhere: not the journal, not the store, not the hosts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evacuate.ansible.runner import list_tasks
from evacuate.plan.model import RebuildPlan, StepKind
from evacuate.rebuild.journal import Journal
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir

PLAYBOOK_STEPS = (StepKind.PREPARE, StepKind.ACTIVATE, StepKind.ANSIBLE)


@dataclass(frozen=True)
class DryRunStep:
    id: str
    title: str
    kind: str
    skipped: bool  # done before: a --resume skips it
    tasks: tuple[str, ...] = ()  # the playbook's tasks (playbook steps)


@dataclass(frozen=True)
class DatabaseMove:
    engine: str
    name: str
    size_bytes: int


@dataclass(frozen=True)
class DryRun:
    plan: str
    source: str
    target: str
    snapshot: str  # what the run would restore from
    steps: tuple[DryRunStep, ...]
    packages: int
    config_files: int
    data_roots: tuple[str, ...]
    files: int
    file_bytes: int
    databases: tuple[DatabaseMove, ...]


def dry_run(plan: RebuildPlan, folder: Path, repo: SnapshotRepository, state: StateDir, *,
            resume: bool = False, snapshot: str | None = None) -> DryRun:
    """Describe the run of ``plan``; read the journal (``resume``), the store (``snapshot``)
    and the rendered project, write nothing."""
    journal = Journal.read(folder / "journal.json", plan.name) if resume else None
    if snapshot or plan.source_spec.is_disk:
        chosen = repo.find(plan.source, snapshot or "latest").id  # UsageError: there is none
        source_of_data = f"snapshot {chosen}"
    elif journal is not None and journal.done("snapshot") and journal.snapshot_id:
        source_of_data = f"snapshot {journal.snapshot_id} (taken by the interrupted run)"
    else:
        source_of_data = f"a fresh snapshot of {plan.source} (the plan's: {plan.snapshot_id})"
    vault = state.root / "keys" / "vault-pass"
    steps = []
    for step in plan.steps:
        tasks: tuple[str, ...] = ()
        if step.kind in PLAYBOOK_STEPS:
            tasks = tuple(list_tasks(folder / "project", tags=step.tags,
                                     vault_password_file=vault if vault.exists() else None))
        steps.append(DryRunStep(step.id, step.title, str(step.kind),
                                journal is not None and journal.done(step.id), tasks))
    return DryRun(
        plan.name, plan.source, plan.target, source_of_data, tuple(steps), len(plan.packages),
        len(plan.config_files), plan.data_roots, plan.file_count, plan.file_bytes,
        tuple(DatabaseMove(d.engine, d.name, d.size_bytes) for d in plan.databases))
