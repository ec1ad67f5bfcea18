"""Run a rendered project's playbook through ansible-runner (the only importer of it).

The runner's private data dir keeps every run's artifacts (job events, stdout, status) as
the audit trail. A run is judged by ``status``, ``rc`` and the per-host stats.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evacuate.ansible import node as nodes
from evacuate.ansible.node import ExecutionNode, NodeError
from evacuate.ansible.vault import encrypt
from evacuate.errors import EvacuateError
from evacuate.state import ensure_private_dir
from evacuate.transport.spec import HostSpec


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
    details: tuple[str, ...] = field(default=())  # the evacuate.migrate modules' lines
    warnings: tuple[str, ...] = field(default=())  # and their warnings


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
                 cancel: Callable[[], bool] | None = None, node: ExecutionNode | None = None,
                 reaches: tuple[HostSpec, ...] = (), playbook: str = "site.yml",
                 vault_vars: Mapping[str, str] | None = None) -> PlaybookOutcome:
    """Run ``project/<playbook>``; raise PlaybookFailed naming the failed tasks if it fails
    (or stops because ``cancel`` said so). With ``node``: the same job runs there (see
    :func:`_on_node`; ``reaches``: the hosts it connects to, whose host keys it gets;
    ``vault_vars``: the job's secret variables, sent encrypted with the vault password)."""
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
    details: list[str] = []
    warnings: list[str] = []
    stats: dict[str, Any] = {}

    def handle(event: dict[str, Any]) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        if kind == "playbook_on_stats":
            stats.update(data)
        if kind == "runner_on_ok" and "evacuate_detail" in (data.get("res") or {}):
            details.append(str(data["res"]["evacuate_detail"]))
            warnings.extend(str(w) for w in data["res"].get("evacuate_warnings") or ())
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

    if node is not None:
        status, rc, artifacts = _on_node(
            node, project, private_dir, ident=ident, tags=tags, extravars=extravars,
            vault_password_file=vault_password_file, known_hosts=known_hosts, identity=identity,
            reaches=reaches, handle=handle, on_status=on_status, cancel=cancel,
            playbook=playbook, vault_vars=vault_vars)
    else:
        if vault_vars:
            raise ValueError("vault_vars travel to an execution node only")
        cmdline = f"--vault-password-file {shlex.quote(str(vault_password_file))}" \
            if vault_password_file else None
        runner = ansible_runner.run(
            private_data_dir=str(private_dir), project_dir=str(project), playbook=playbook,
            inventory=str(project / "inventory" / "hosts.yml"), ident=ident,
            tags=",".join(tags) or None, extravars=dict(extravars or {}), envvars=env,
            cmdline=cmdline, event_handler=handle, status_handler=on_status, quiet=True,
            suppress_env_files=True, cancel_callback=cancel)
        status, rc, artifacts = runner.status, int(runner.rc or 0), Path(runner.config.artifact_dir)
        stats = runner.stats or stats

    def total(key: str) -> int:
        return sum(int(v) for v in (stats.get(key) or {}).values())

    outcome = PlaybookOutcome(
        status=status, rc=rc, changed=total("changed"),
        failed=total("failures"), unreachable=total("dark"), ok=total("ok"),
        artifacts=artifacts, failures=tuple(failures), details=tuple(details),
        warnings=tuple(warnings))
    if outcome.status != "successful" or outcome.rc != 0:
        first = failures[0] if failures else f"status {outcome.status}, rc {outcome.rc}"
        raise PlaybookFailed(f"the playbook failed ({', '.join(tags) or 'all'}): {first}",
                             hint=f"artifacts: {outcome.artifacts}")
    return outcome


def _on_node(node: ExecutionNode, project: Path, private_dir: Path, *, ident: str,
             tags: tuple[str, ...], extravars: Mapping[str, Any] | None,
             vault_password_file: Path | None, known_hosts: Path | None,
             identity: Path | None, reaches: tuple[HostSpec, ...],
             handle: Callable[[dict[str, Any]], bool], on_status: Callable[..., None],
             cancel: Callable[[], bool] | None, playbook: str = "site.yml",
             vault_vars: Mapping[str, str] | None = None) -> tuple[str, int, Path]:
    """Run the job on ``node``: ``transmit`` (a private data dir staged from the project,
    the key and vault password as kwargs) into ``ssh NODE ansible-runner worker``, whose
    output ``process`` reads here with the same handlers as a local run (events live, the
    artifacts streamed back into ``private_dir``). Return status, rc and the artifacts."""
    import ansible_runner

    nodes.probe(node)
    password = nodes.vault_answer(vault_password_file, node) if vault_password_file else None
    kwargs = nodes.job_kwargs(
        ident, tags=tags, extravars=extravars, with_known_hosts=bool(known_hosts),
        ssh_key=identity.read_text() if identity else None, vault_password=password,
        playbook=playbook)
    secret: str | None = None
    if vault_vars:
        if password is None:
            raise NodeError(f"execution node {node.label}: the job's secrets need the vault "
                            "password")
        secret = encrypt(json.dumps(dict(vault_vars)), password.encode())
    lines = nodes.known_hosts_lines(known_hosts, reaches) if known_hosts and reaches else None
    staging = Path(tempfile.mkdtemp(prefix=".transmit-", dir=private_dir))
    errors: list[bytes] = []
    cancelled = threading.Event()
    try:
        nodes.stage(project, staging, known_hosts=lines, vault_vars=secret)
        worker = subprocess.Popen(nodes.ssh_command(node, nodes.worker_command(ident)),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        assert worker.stdin and worker.stdout and worker.stderr
        stderr = worker.stderr

        def transmit() -> None:
            try:
                ansible_runner.run(private_data_dir=str(staging), streamer="transmit",
                                   _output=worker.stdin, **kwargs)
            except OSError:  # the worker went away: its exit code and stderr say why
                pass
            finally:
                with contextlib.suppress(OSError):
                    worker.stdin.close()  # type: ignore[union-attr]

        def watch() -> None:  # the process side cannot stop the node: end the stream
            while worker.poll() is None:
                if cancel is not None and cancel():
                    cancelled.set()
                    worker.terminate()
                    return
                time.sleep(0.5)

        helpers = [threading.Thread(target=transmit, daemon=True),
                   threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True),
                   threading.Thread(target=watch, daemon=True)]
        for helper in helpers:
            helper.start()
        processed = ansible_runner.run(private_data_dir=str(private_dir), ident=ident,
                                       streamer="process", _input=worker.stdout,
                                       event_handler=handle, status_handler=on_status,
                                       quiet=True)
        rc = worker.wait()
        for helper in helpers[:2]:
            helper.join(30)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    last = (b"".join(errors).decode(errors="replace").strip().splitlines() or ["no output"])[-1]
    if cancelled.is_set():
        return "canceled", 1, Path(processed.artifact_dir)
    if rc == 255:
        raise NodeError(f"execution node {node.label}: the SSH connection failed: {last}")
    status = str(processed.status)
    if status not in ("successful", "failed", "canceled", "timeout"):  # the worker broke
        raise NodeError(f"execution node {node.label}: the worker ended {status} "
                        f"(exit {rc}): {last}")
    return status, (rc or (0 if status == "successful" else 1)), Path(processed.artifact_dir)


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
