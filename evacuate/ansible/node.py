"""An Ansible execution node: the host a job runs on when it is dispatched with
ansible-runner's streaming protocol (``transmit`` here, ``ansible-runner worker`` on the
node over SSH, ``process`` here; the runner module does the streaming).

What the node receives is one private data dir, staged here: the project (without an
exported ``payload/``), its inventory, and only the known_hosts lines of the hosts the job
reaches. The SSH key travels in the job's kwargs (ansible-runner hands it to ssh-agent
through a FIFO) and the vault password as an answer to ansible-playbook's prompt: neither
is written to the node's disk, and nothing of the controller's environment goes along.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evacuate.errors import EvacuateError, UsageError
from evacuate.transport.spec import HostSpec

WORKER_ROOT = ".evacuate-worker"
"""Where, under the node's SSH user's home, the worker unpacks each job (deleted when the
worker ends)."""


class NodeError(EvacuateError):
    """The execution node cannot run the job (unreachable, no ansible-runner)."""


@dataclass(frozen=True)
class ExecutionNode:
    """Where to dispatch a job, and how to reach it (the config's ssh settings)."""

    spec: HostSpec
    identity: Path | None = None
    known_hosts: Path | None = None
    ssh_config: Path | None = None
    connect_timeout: float = 10

    @property
    def label(self) -> str:
        return str(self.spec)


def ssh_command(node: ExecutionNode, remote: str) -> list[str]:
    """The OpenSSH command that runs ``remote`` (a shell command line) on ``node``, host
    keys checked strictly against the config's known_hosts, never asking for anything."""
    command = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
               "-o", f"ConnectTimeout={max(1, int(node.connect_timeout))}",
               "-o", "ServerAliveInterval=30"]
    if node.ssh_config:
        command += ["-F", str(node.ssh_config)]
    if node.known_hosts:
        command += ["-o", f"UserKnownHostsFile={node.known_hosts}"]
    if node.identity:
        command += ["-i", str(node.identity), "-o", "IdentitiesOnly=yes"]
    if node.spec.port:
        command += ["-p", str(node.spec.port)]
    if node.spec.user:
        command += ["-l", node.spec.user]
    return [*command, "--", node.spec.host, remote]


def worker_dir(ident: str) -> str:
    """The job's private data dir on the node, relative to its SSH user's home."""
    if not ident or "/" in ident or ident.startswith("."):
        raise ValueError(f"not a job ident: {ident!r}")
    return f"{WORKER_ROOT}/{ident}"


def worker_command(ident: str) -> str:
    """The node's side of the stream: its own ansible-runner, unpacking the job into a fresh
    directory that it deletes when it ends (``--delete``)."""
    return (f'cd && mkdir -p -m 0700 {WORKER_ROOT} && exec ansible-runner worker '
            f'--private-data-dir "$HOME"/{shlex.quote(worker_dir(ident))} --delete')


PROBE = "ansible-runner worker --worker-info"


def probe(node: ExecutionNode, *, timeout: float = 60) -> str:
    """Check that ``node`` answers over SSH and has ansible-runner; return its version;
    raise NodeError (one line, naming the node) otherwise."""
    try:
        done = subprocess.run(ssh_command(node, PROBE), capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as failed:
        raise NodeError(f"execution node {node.label}: {failed}") from None
    return probe_result(node.label, done.returncode, done.stdout, done.stderr)


def probe_result(label: str, rc: int, stdout: str, stderr: str) -> str:
    """What the probe's exit code and output say: the node's ansible-runner version, or a
    NodeError naming the node."""
    last = (stderr.strip().splitlines() or ["no output"])[-1].strip()
    if rc == 255:
        raise NodeError(f"execution node {label} cannot be reached over SSH: {last}")
    if rc == 127 or "not found" in last:
        raise NodeError(f"execution node {label} has no ansible-runner "
                        f"('{PROBE}': {last})",
                        hint="install ansible-core and ansible-runner on the node")
    if rc != 0:
        raise NodeError(f"execution node {label}: '{PROBE}' failed (exit {rc}): {last}")
    for item in stdout.strip().strip("{}").split(","):
        key, _, value = item.partition(":")
        if key.strip() == "runner_version":
            return value.strip()
    raise NodeError(f"execution node {label}: '{PROBE}' said no runner_version: "
                    f"{stdout.strip()[:200]}")


def known_hosts_lines(known_hosts: Path, hosts: tuple[HostSpec, ...]) -> str:
    """The lines of ``known_hosts`` that name ``hosts`` (``ssh-keygen -F``: hashed names
    and ports too), so that the node learns only the keys of the hosts its job reaches."""
    lines: list[str] = []
    for spec in hosts:
        name = f"[{spec.host}]:{spec.port}" if spec.port and spec.port != 22 else spec.host
        done = subprocess.run(["ssh-keygen", "-F", name, "-f", str(known_hosts)],
                              capture_output=True, text=True, check=False)
        lines += [line for line in done.stdout.splitlines()
                  if line.strip() and not line.startswith("#")]
    if not lines:
        raise EvacuateError(f"{known_hosts} has no host key of "
                            f"{', '.join(str(h) for h in hosts)}: the execution node could "
                            "not check it")
    return "".join(f"{line}\n" for line in lines)


VAULT_VARS = "group_vars/all/evacuate_job.yml"
"""Where, in the staged project, the job's own secret variables go (vault-encrypted)."""


def stage(project: Path, staging: Path, *, known_hosts: str | None,
          vault_vars: str | None = None) -> None:
    """Write the job's private data dir at ``staging`` (which exists, 0700): the project
    under ``project/`` (not its exported ``payload/``), its inventory under ``inventory/``,
    the job's known_hosts lines and ``vault_vars`` (a vault document: the job's secret
    variables, e.g. the store's key for the data steps) as :data:`VAULT_VARS`."""
    shutil.copytree(project, staging / "project", symlinks=True,
                    ignore=lambda folder, _names: ["payload"] if Path(folder) == project else [])
    (staging / "inventory").mkdir(mode=0o700)
    shutil.copy2(project / "inventory" / "hosts.yml", staging / "inventory" / "hosts.yml")
    if known_hosts is not None:
        (staging / "known_hosts").write_text(known_hosts)
    if vault_vars is not None:
        path = staging / "project" / VAULT_VARS
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(vault_vars)
        path.chmod(0o600)


def node_ssh_args(ident: str, *, with_known_hosts: bool) -> str:
    """ANSIBLE_SSH_ARGS for the job on the node: its paths are the node's (``~``: the node's
    SSH user's home, where the worker unpacked the job), never the controller's."""
    args = "-o ControlMaster=auto -o ControlPersist=60s -o BatchMode=yes"
    if with_known_hosts:
        args += (f" -o UserKnownHostsFile=~/{worker_dir(ident)}/known_hosts"
                 " -o StrictHostKeyChecking=yes")
    return args


VAULT_PROMPT = r"^Vault password:\s*?$"
"""ansible-playbook's ``--ask-vault-pass`` prompt, answered by ansible-runner (pexpect)."""


def job_kwargs(ident: str, *, tags: tuple[str, ...], extravars: Mapping[str, Any] | None,
               with_known_hosts: bool, ssh_key: str | None,
               vault_password: str | None, playbook: str = "site.yml") -> dict[str, Any]:
    """What ``transmit`` sends the node beside the staged directory: the job's own settings
    only (paths relative to the job or the node's home; no controller path, none of the
    controller's environment). The key and the password stay out of the job's ``env/``
    files (``suppress_env_files``): the worker keeps them in memory. With known_hosts,
    ``evacuate_known_hosts`` names the job's file (for a module that connects itself)."""
    extra = dict(extravars or {})
    if with_known_hosts:
        extra["evacuate_known_hosts"] = f"~/{worker_dir(ident)}/known_hosts"
    kwargs: dict[str, Any] = {
        "playbook": playbook, "inventory": "hosts.yml", "ident": ident,
        "tags": ",".join(tags) or None, "extravars": extra,
        "suppress_env_files": True,
        "envvars": {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                    "ANSIBLE_REMOTE_TMP": "/tmp/.ansible-evacuate/tmp",
                    "ANSIBLE_SSH_ARGS": node_ssh_args(ident, with_known_hosts=with_known_hosts)}}
    if ssh_key:
        kwargs["ssh_key"] = ssh_key
    if vault_password:
        kwargs["cmdline"] = "--ask-vault-pass"
        kwargs["passwords"] = {VAULT_PROMPT: vault_password}
    return kwargs


def vault_answer(vault_password_file: Path, node: ExecutionNode) -> str:
    """The vault password, to answer ansible-playbook's prompt on the node with (a password
    script cannot travel: refused)."""
    if not vault_password_file.is_file():
        raise EvacuateError(f"the vault password file {vault_password_file} is missing")
    if vault_password_file.stat().st_mode & 0o111:
        raise UsageError(f"the vault password file {vault_password_file} is a script: it "
                         f"cannot be sent to execution node {node.label}",
                         hint="use a plain vault password file, or run without a node")
    password = vault_password_file.read_text().strip()
    if not password:
        raise EvacuateError(f"the vault password file {vault_password_file} is empty")
    return password
