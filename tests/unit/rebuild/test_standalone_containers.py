"""A container outside Compose is recreated from its inspect document (captured on
lab-containers): the script passes each variable by name, its value only in the shell's
environment (a fake ``podman`` records its arguments and what it was given)."""

from __future__ import annotations

import json
import subprocess
from itertools import pairwise
from pathlib import Path
from typing import Any

from evacuate.rebuild.standalone import recreate_script

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/inventory/containers"


def _web() -> dict[str, Any]:
    out = json.loads((FIXTURES / "podman_compose_lab.json").read_text())["output"]
    start = out.index("[")
    found: list[dict[str, Any]] = json.loads(out[start:out.index("@@-- ", start)])
    (web,) = [c for c in found if c["Name"] == "shop_web_1"]
    web["Config"]["Env"] = [e.replace("<masked>", "s3cret 'quoted' $HOME") for e in
                            web["Config"]["Env"]]
    return web


def _run(script: str, tmp_path: Path) -> tuple[list[str], str]:
    fake = tmp_path / "podman"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$LOG"\n'
                    'printf "%s" "$APP_TOKEN" > "$LOG.env"\n')
    fake.chmod(0o755)
    log = tmp_path / "args"
    subprocess.run(["sh", "-s"], input=script.encode(), check=True,
                   env={"PATH": f"{tmp_path}:/usr/bin:/bin", "LOG": str(log)})
    return log.read_text().splitlines(), Path(f"{log}.env").read_text()


def test_the_container_is_recreated_as_inspected(tmp_path: Path) -> None:
    script = recreate_script("podman", _web())
    assert "s3cret" in script  # only in the script sent on stdin, never as an argument
    args, token = _run(script, tmp_path)
    assert token == "s3cret 'quoted' $HOME"
    assert not [a for a in args if "s3cret" in a]
    assert args[:3] == ["run", "-d", "--name"] and args[3] == "shop_web_1"
    assert "-e" in args and "APP_TOKEN" in args and "NOTES_TITLE" in args
    assert "HOSTNAME" not in args and "container" not in args  # the engine's own
    pairs = list(pairwise(args))
    assert ("-v", "shop_notes-data:/data") in pairs
    assert ("--restart", "always") in pairs and ("--network", "host") in pairs
    assert args[-4:] == ["localhost/shop/web:1", "/bin/sh", "-c",
                         'exec httpd -f -p "${NOTES_PORT:-8081}" -h /www']


def test_dockers_spellings_ports_and_a_read_only_bind(tmp_path: Path) -> None:
    inspected = {"Name": "/cache", "Image": "sha256:ab",
                 "Config": {"Image": "redis:7", "Env": ["A=1"], "Entrypoint": ["tini", "--"],
                            "Cmd": ["redis-server"]},
                 "Mounts": [{"Type": "bind", "Source": "/srv/conf", "Destination": "/conf",
                             "RW": False}],
                 "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                                "NetworkMode": "bridge",
                                "PortBindings": {"6379/tcp": [{"HostIp": "127.0.0.1",
                                                               "HostPort": "6379"}]}}}
    args, _ = _run(recreate_script("podman", inspected), tmp_path)
    pairs = list(pairwise(args))
    assert ("--name", "cache") in pairs and ("-v", "/srv/conf:/conf:ro") in pairs
    assert ("--restart", "on-failure:3") in pairs and ("-p", "127.0.0.1:6379:6379/tcp") in pairs
    assert "--network" not in args
    assert args[-5:] == ["--entrypoint", "tini", "redis:7", "--", "redis-server"]


def _migrate() -> dict[str, Any]:
    out = json.loads((FIXTURES / "podman_compose_lab.json").read_text())["output"]
    start = out.index("[")
    found: list[dict[str, Any]] = json.loads(out[start:out.index("@@-- ", start)])
    (migrate,) = [c for c in found if c["Name"] == "shop-migrate"]
    return migrate


def test_a_container_that_had_exited_is_created_not_started(tmp_path: Path) -> None:
    """shop-migrate, a one-shot job that ran and exited on lab-containers: created with its
    labels, image and command as it was left, no restart policy added."""
    migrate = _migrate()
    assert migrate["State"]["Status"] == "exited"
    args, _ = _run(recreate_script("podman", migrate), tmp_path)
    assert args[:3] == ["create", "--name", "shop-migrate"] and "-d" not in args
    assert ("--label", "role=migration") in list(pairwise(args))
    assert "--restart" not in args
    assert args[-4:] == ["localhost/shop/web:1", "/bin/sh", "-c", "echo migrated > /tmp/done"]
    migrate["State"]["Running"] = True
    args, _ = _run(recreate_script("podman", migrate), tmp_path)
    assert args[:4] == ["run", "-d", "--name", "shop-migrate"]
