"""What the second-instance lab modules share (a second PostgreSQL cluster, a second MariaDB
instance): lab-source gets the instance, then it is planned and run onto a blank target; both
hosts are reset afterwards, so the other modules get a lab-source with one server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.lab.lab import Lab
from tests.lab.test_run_lab import evacuate, write_config

Evacuated = tuple[dict[str, Any], subprocess.CompletedProcess[str], Path]


def evacuated_with(lab: Lab, tmp_path_factory: pytest.TempPathFactory, setup: str,
                   name: str) -> Iterator[Evacuated]:
    """Run ``setup`` on a reset lab-source, plan (JSON) and run onto a reset lab-target;
    yield the plan, the run and its folder."""
    lab.reset("lab-source")
    lab.reset("lab-target")
    with lab.open("lab-source") as source:
        source.run(setup, timeout=300, check=True)
    try:
        folder = tmp_path_factory.mktemp(name)
        config = write_config(lab, folder)
        planned = evacuate(config, "plan", "source", "--to", "target", "--json")
        assert planned.returncode == 0, planned.stderr[-3000:]
        ran = evacuate(config, "run")
        yield json.loads(planned.stdout), ran, folder
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")


def on(lab: Lab, host: str, command: str) -> str:
    with lab.open(host) as transport:
        return transport.run(command, timeout=120, check=True).text
