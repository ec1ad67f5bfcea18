"""What the lab tests of the two container hosts (lab-docker, lab-containers) share: the
source's state before anything ran, its inventory taken through the app, the CLI run with a
config of their own, and the commands that read a container host the same way on both
engines (Docker and Podman speak the same ``volume inspect``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from evacuate.actions.inventory import take_inventory
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.inventory import HostInventory
from evacuate.lab.lab import Lab
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from tests.lab.source_state import SET_ASIDE, Entry, file_system_state

VOLUMES = ("shop_notes-data", "shop_worker-state", "shop-cache-data")


def run_on(lab: Lab, host: str, command: str) -> str:
    """``command``'s output on ``host``; it must succeed within two minutes."""
    with lab.open(host) as transport:
        return transport.run(command, timeout=120, check=True).text


def state_of(lab: Lab, host: str, aside: dict[str, str] | None = None) -> dict[bytes, Entry]:
    """``host``'s whole file system, but for what ``aside`` names (by default SET_ASIDE)."""
    with lab.open(host) as transport:
        return file_system_state(transport) if aside is None else file_system_state(
            transport, aside)


DB = "shop_db_1"  # the project's PostgreSQL, whose data directory is the volume shop_db-data
DB_VOLUME = "/var/lib/containers/storage/volumes/shop_db-data/_data"


def podman_shop_aside(lab: Lab, host: str) -> dict[str, str]:
    """SET_ASIDE, and what lab-containers' running database container writes on its own:
    the server its data directory (the volume), the engine the server's log (its
    container's ctr.log)."""
    with lab.open(host) as transport:
        db_id = transport.run(f"podman inspect --format '{{{{.Id}}}}' {DB}", timeout=60,
                              check=True).text.strip()
    return {**SET_ASIDE,
            DB_VOLUME: "the database container's data directory: its running server writes "
                       "it on its own (checkpoints, statistics); evacuate only reads through SQL",
            f"/var/lib/containers/storage/vfs-containers/{db_id}/userdata/ctr.log":
                "the database container's log: Podman writes what its server logs"}


def inventory_of(lab: Lab, host: str, folder: Path) -> HostInventory:
    """``host``'s inventory, taken as the app takes it (state under ``folder``)."""
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef(host, parse_host_spec(lab.ssh_spec(host)))
    outcome = take_inventory(ref, options, StateDir(folder))
    assert outcome.error is None, outcome.error
    assert outcome.inventory is not None
    return outcome.inventory


def write_config(lab: Lab, host: str, folder: Path) -> Path:
    """An evacuate.yml moving ``host`` (as ``shop``) onto lab-target, its state in ``folder``."""
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n  shop:\n    ssh: {lab.ssh_spec(host)}\n    target: target\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n")
    return config


def evacuate(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``evacuate ARGS -c CONFIG``, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=1500, check=False)


def volume_sums(cli: str, volumes: tuple[str, ...] = VOLUMES) -> str:
    """sh listing each volume's tree (path, type, mode, owner) and its files' sha256."""
    return (f"for v in {' '.join(volumes)}; do "
            f"cd \"$({cli} volume inspect $v --format '{{{{.Mountpoint}}}}')\" && "
            "find . -printf '%p %y %m %u:%g\\n' | sort && "
            "find . -type f -print0 | sort -z | xargs -0 sha256sum; done")


def failed_checks(report: dict[str, Any]) -> list[str]:
    """Each failed check of a ``verify --json`` report, one line each."""
    return [f"{c['id']}: expected {c['expected']!r}, found {c['found']!r} ({c['detail']})"
            for c in report.get("checks", ()) if c["status"] == "fail"]


def one_shot(cli: str, image: str) -> str:
    """sh printing shop-migrate's state, then its image (inspect's field ``image``), restart
    policy, role label, command and network mode."""
    return (f"{cli} inspect shop-migrate --format '{{{{.State.Status}}}} {{{{{image}}}}} "
            "{{.HostConfig.RestartPolicy.Name}} {{.Config.Labels.role}} {{.Config.Cmd}} "
            "{{.HostConfig.NetworkMode}}'")


def assert_created_not_started(lab: Lab, host: str, command: str, expected: str) -> None:
    """shop-migrate, a one-shot job that ran and exited on ``host``, is on lab-target
    created from the same image with the same configuration, and not run (``command``:
    one_shot's; ``expected``: how its configuration begins on the source)."""
    source = run_on(lab, host, command).split(" ", 1)
    target = run_on(lab, "lab-target", command).split(" ", 1)
    assert source[0] == "exited" and target[0] == "created"
    assert target[1] == source[1]
    assert source[1].startswith(expected), source


