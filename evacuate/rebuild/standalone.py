"""Containers outside Compose, recreated on the target from the ``inspect`` document the
snapshot stored (encrypted: it holds the environment's real values): the same name, image,
environment, labels, mounts (named volumes by name: their data came with the files; bind
mounts; tmpfs), published ports, network mode, restart policy, entrypoint and command; one
that was running is started (``run -d``), one that was not (a one-shot job that ran and
exited, a container stopped by hand) is only created, as it was left. The script
goes to ``sh`` on stdin and passes each variable by name (``-e NAME``, its value exported
in that shell), so that no value is on a command line, in a plan or in a log."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from evacuate.engines.container_cli import TMP_IN_MEMORY, container_cli
from evacuate.errors import RemoteCommandError
from evacuate.snapshot.manifest import ContainerConfigEntry
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

# set in every container by its container engine, not by whoever created it
ENGINE_ENV = ("container", "HOSTNAME", "NOTIFY_SOCKET")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _mounts(inspected: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for m in inspected.get("Mounts") or ():
        ro = "" if m.get("RW", True) else ":ro"
        if m.get("Type") == "volume":
            args += ["-v", f"{m['Name']}:{m['Destination']}{ro}"]
        elif m.get("Type") == "bind":
            args += ["-v", f"{m['Source']}:{m['Destination']}{ro}"]
        elif m.get("Type") == "tmpfs":
            args += ["--tmpfs", m["Destination"]]
    return args


def _host(inspected: dict[str, Any]) -> list[str]:
    host = inspected.get("HostConfig") or {}
    args: list[str] = []
    restart = host.get("RestartPolicy") or {}
    policy = restart.get("Name") or ""
    if policy == "on-failure" and restart.get("MaximumRetryCount"):
        policy = f"on-failure:{restart['MaximumRetryCount']}"
    if policy and policy != "no":
        args += ["--restart", policy]
    mode = host.get("NetworkMode") or ""
    if mode and mode not in ("default", "bridge"):
        args += ["--network", mode]
    for port, bindings in sorted((host.get("PortBindings") or {}).items()):
        for b in bindings or ():
            at = f"{b['HostIp']}:" if b.get("HostIp") else ""
            args += ["-p", f"{at}{b.get('HostPort') or ''}:{port}"]
    return args


def recreate_script(engine: str, inspected: dict[str, Any]) -> str:
    """The sh script that recreates the container ``inspected`` describes (a container of
    that name already on the target is replaced: a resumed run recreates it again)."""
    binary = container_cli(engine).binary
    config = inspected.get("Config") or {}
    name = inspected["Name"].lstrip("/")
    running = bool((inspected.get("State") or {}).get("Running"))
    exports, args = [], ["-d", "--name", name] if running else ["--name", name]
    for item in config.get("Env") or ():
        key, _, value = item.partition("=")
        if key not in ENGINE_ENV and NAME.match(key):
            exports.append(f"{key}={shlex.quote(value)}")
            args += ["-e", key]
    for key, value in sorted((config.get("Labels") or {}).items()):
        args += ["--label", f"{key}={value}"]
    args += _mounts(inspected) + _host(inspected)
    entrypoint = config.get("Entrypoint") or ""
    command = list(config.get("Cmd") or ())
    if isinstance(entrypoint, list):  # Docker's spelling: a list
        if entrypoint:
            args += ["--entrypoint", entrypoint[0]]
            command = entrypoint[1:] + command
    elif entrypoint:
        args += ["--entrypoint", entrypoint]
    image = config.get("Image") or inspected.get("ImageName") or inspected["Image"]
    quoted = " ".join(shlex.quote(a) for a in [*args, image, *command])
    # the engine found before the container's variables (its PATH among them) are exported
    lines = [TMP_IN_MEMORY, f"engine=$(command -v {binary}) || exit 127",
             f'"$engine" rm -f {shlex.quote(name)} >/dev/null 2>&1 || true']
    lines += [f"export {e}" for e in exports]
    lines.append(f'exec "$engine" {"run" if running else "create"} {quoted} >/dev/null')
    return "\n".join(lines) + "\n"


def recreate(target: Transport, blobs: BlobStore,
             configs: tuple[ContainerConfigEntry, ...]) -> list[str]:
    """Recreate each stored container on ``target``; return their names."""
    done = []
    for entry in configs:
        (inspected,) = json.loads(blobs.read_blob(entry.blob))[:1]
        result = target.run_script(recreate_script(entry.engine, inspected), timeout=600)
        if not result.ok:
            lines = [ln for ln in (result.error_text + result.text).splitlines() if ln.strip()]
            raise RemoteCommandError(
                f"{target.name}: recreating the container {entry.name} failed (exit "
                f"{result.exit_status}): {lines[-1] if lines else 'no message'}",
                exit_status=result.exit_status or 1)
        done.append(entry.name)
    return done
