"""The rendered project's execution-environment.yml, checked by ansible-builder itself
(``ansible-builder create`` validates the definition against its schema and writes the build
context; no image is built: that needs podman and a registry, not in the test run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from evacuate.plan.ee import wheel_name
from evacuate.plan.render import render_project
from tests.unit.plan.test_render import saved_plan

BIN = Path(sys.executable).parent
ROOT = Path(__file__).parents[2]


def test_ansible_builder_writes_the_build_context_of_the_project_s_definition(
        tmp_path: Path) -> None:
    project = render_project(saved_plan(), tmp_path / "project", vault_document="vault\n")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "--disable-pip-version-check", "-w", str(project / "wheels"),
                            str(ROOT)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    assert (project / "wheels" / wheel_name()).is_file()  # the name the definition gives
    done = subprocess.run([str(BIN / "ansible-builder"), "create", "-f",
                           "execution-environment.yml", "-c", str(tmp_path / "context"),
                           "-v", "3"], cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No matches" not in done.stdout + done.stderr, done.stdout + done.stderr
    build = tmp_path / "context" / "_build"
    assert (build / "wheels" / wheel_name()).is_file()
    assert (build / "evacuate-migrate" / "galaxy.yml").is_file()
    assert (build / "evacuate-migrate" / "plugins" / "modules" / "restore_files.py").is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": "/build/evacuate-migrate", "type": "dir"}]
    python = (build / "requirements.txt").read_text().splitlines()
    assert f"evacuate @ file:///build/wheels/{wheel_name()}" in python
    assert {"paramiko>=3.4", "boto3>=1.34"} <= set(python)
    # (Dockerfile: the name ansible-builder gives it when podman is not installed)
    context = tmp_path / "context"
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile")
                         if p.exists()).read_text()
    assert "COPY _build/wheels /build/wheels" in containerfile
    assert "ansible-core==2.19" in containerfile and "ansible-runner==2.4" in containerfile


def test_a_bad_definition_is_refused_by_ansible_builder(tmp_path: Path) -> None:
    """The check can fail: ansible-builder refuses a definition its schema does not allow."""
    project = render_project(saved_plan(), tmp_path / "project", vault_document="vault\n")
    definition = project / "execution-environment.yml"
    document = yaml.safe_load(definition.read_text())
    document["dependencies"]["galaxy"] = {"collections": "evacuate.migrate"}
    document["images"]["base_image"] = {"image": "x"}
    definition.write_text(yaml.safe_dump(document))
    done = subprocess.run([str(BIN / "ansible-builder"), "create", "-f",
                           "execution-environment.yml", "-c", str(tmp_path / "context")],
                          cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode != 0
