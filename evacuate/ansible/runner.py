"""Run a rendered project's playbook through ansible-runner (the only importer of it).

The runner's private data dir keeps every run's artifacts (job events, stdout, status) as
the audit trail. A run is judged by ``status``, ``rc`` and the per-host stats.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evacuate.errors import EvacuateError
from evacuate.state import ensure_private_dir


class PlaybookFailed(EvacuateError):
    """The playbook ran and failed (a task failed or a host was unreachable)."""


@dataclass(frozen=True)
class PlaybookOutcome:
    status: str
    rc: int
    changed: int
    failed: int
    unreachable: int
    ok: int
    artifacts: Path
    failures: tuple[str, ...] = field(default=())


TaskCallback = Callable[[str, str], None]  # (task name, host)

# What the playbook process keeps of the controller's environment. ansible-runner copies the
# whole environment into the process *and* into artifacts/<ident>/command; the controller's
# secrets (S3 keys, EVACUATE_BECOME_PASSWORD, IMAP passwords) are no business of Ansible's.
KEPT_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM",
                      "TMPDIR", "TZ", "SSH_AUTH_SOCK", "VIRTUAL_ENV", "PYTHONPATH"})
KEPT_PREFIXES = ("LC_", "ANSIBLE_", "RUNNER_", "AWX_")


def scrub_environment(env: dict[str, Any]) -> None:
    """Remove, in place, every variable of ``env`` that the playbook does not need."""
    for key in list(env):
        if key not in KEPT_ENV and not key.startswith(KEPT_PREFIXES):
            del env[key]


def run_playbook(project: Path, private_dir: Path, *, ident: str, tags: tuple[str, ...] = (),
                 extravars: Mapping[str, Any] | None = None,
                 vault_password_file: Path | None = None, known_hosts: Path | None = None,
                 identity: Path | None = None, on_task: TaskCallback | None = None,
                 cancel: Callable[[], bool] | None = None) -> PlaybookOutcome:
    """Run ``project/site.yml``; raise PlaybookFailed naming the failed tasks if it fails
    (or stops because ``cancel`` said so)."""
    import ansible_runner

    ensure_private_dir(private_dir)
    bindir = str(Path(sys.executable).parent)
    ssh_args = "-o ControlMaster=auto -o ControlPersist=60s -o BatchMode=yes"
    if known_hosts:
        ssh_args += f" -o UserKnownHostsFile={shlex.quote(str(known_hosts))}" \
                    " -o StrictHostKeyChecking=yes"
    env = {
        "PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(project / "roles"),
        "ANSIBLE_SSH_ARGS": ssh_args,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_REMOTE_TMP": "/tmp/.ansible-evacuate/tmp",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    if identity:
        env["ANSIBLE_PRIVATE_KEY_FILE"] = str(identity)
    failures: list[str] = []

    def handle(event: dict[str, Any]) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        if kind == "playbook_on_task_start" and on_task:
            on_task(data.get("task", ""), "")
        elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            result = data.get("res", {}) or {}
            message = result.get("msg") or result.get("stderr") or kind
            failures.append(f"{data.get('host', '?')}: {data.get('task', '?')}: "
                            f"{str(message).strip().splitlines()[-1][:300] if message else kind}")
        return True

    def on_status(data: dict[str, Any], runner_config: Any = None) -> None:
        # Called with "starting" before the command file is written and the process starts.
        if runner_config is not None and isinstance(getattr(runner_config, "env", None), dict):
            scrub_environment(runner_config.env)
        if isinstance(data.get("env"), dict):
            scrub_environment(data["env"])

    cmdline = f"--vault-password-file {shlex.quote(str(vault_password_file))}" \
        if vault_password_file else None
    runner = ansible_runner.run(
        private_data_dir=str(private_dir), project_dir=str(project), playbook="site.yml",
        inventory=str(project / "inventory" / "hosts.yml"), ident=ident,
        tags=",".join(tags) or None, extravars=dict(extravars or {}), envvars=env,
        cmdline=cmdline, event_handler=handle, status_handler=on_status, quiet=True, suppress_env_files=True,
        cancel_callback=cancel)
    stats = runner.stats or {}

    def total(key: str) -> int:
        return sum(int(v) for v in (stats.get(key) or {}).values())

    outcome = PlaybookOutcome(
        status=runner.status, rc=int(runner.rc or 0), changed=total("changed"),
        failed=total("failures"), unreachable=total("dark"), ok=total("ok"),
        artifacts=Path(runner.config.artifact_dir), failures=tuple(failures))
    if outcome.status != "successful" or outcome.rc != 0:
        first = failures[0] if failures else f"status {outcome.status}, rc {outcome.rc}"
        raise PlaybookFailed(f"the playbook failed ({', '.join(tags) or 'all'}): {first}",
                             hint=f"artifacts: {outcome.artifacts}")
    return outcome


def list_tasks(project: Path, *, tags: tuple[str, ...] = (),
               vault_password_file: Path | None = None, timeout: float = 300) -> list[str]:
    """The tasks ``project/site.yml`` would run with ``tags`` (``ansible-playbook
    --list-tasks``: nothing is contacted, nothing changed), as ``role : task`` names."""
    import subprocess

    command = [str(Path(sys.executable).parent / "ansible-playbook"), "--list-tasks",
               "-i", str(project / "inventory" / "hosts.yml"), "site.yml"]
    if tags:
        command += ["--tags", ",".join(tags)]
    if vault_password_file:
        command += ["--vault-password-file", str(vault_password_file)]
    env = {**os.environ, "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
           "ANSIBLE_ROLES_PATH": str(project / "roles"), "ANSIBLE_NOCOLOR": "1"}
    try:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as failed:
        raise EvacuateError(f"ansible-playbook --list-tasks in {project}: {failed}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EvacuateError(f"ansible-playbook --list-tasks in {project} failed: {last}")
    tasks, listing = [], False
    for line in done.stdout.splitlines():
        if line.strip() == "tasks:":
            listing = True
        elif listing and line.strip() and not line.lstrip().startswith("play #"):
            tasks.append(line.strip().split("\t")[0].strip())
        elif line.lstrip().startswith("play #"):
            listing = False
    return tasks
