"""A package that installs anywhere: the wheel built from the checkout carries every file
the package reads at run time (the roles, the host programs, the schema), each
package-data glob matches something, and a plain (non-editable) install into a fresh venv
outside the checkout answers ``evacuate --help`` and renders a project from a saved plan
with the roles in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "evacuate"
PLAN_FIXTURE = REPO / "tests" / "fixtures" / "plan" / "doomed.json"
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                              ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
                              ".evacuate", "bench", "tests")

pytestmark = pytest.mark.slow


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False,
                            env=env, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built (pip, offline: the build backend comes from the local index) from a
    copy of the checkout so that the build leaves nothing in it."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(REPO, source, symlinks=True, ignore=SKIP)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
          "--disable-pip-version-check", "-w", str(work / "dist"), str(source)])
    (built,) = (work / "dist").glob("evacuate-*.whl")
    return built


def _shipped(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if name.startswith("evacuate/")}


def test_every_package_data_glob_matches_a_file() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["evacuate"]
    for pattern in globs:
        assert [p for p in PACKAGE.glob(pattern) if p.is_file()], f"{pattern} matches nothing"


def test_the_wheel_carries_every_file_the_package_reads(wheel: Path) -> None:
    shipped = _shipped(wheel)
    wanted = {str(p.relative_to(REPO)) for p in PACKAGE.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert wanted - shipped == set()
    # the data the code reads, by name: the roles, the host programs, the schema
    assert {"evacuate/playbooks/site.yml", "evacuate/playbooks/CONTRACT.md",
            "evacuate/playbooks/.ansible-lint", "evacuate/config/schema.yaml",
            "evacuate/playbooks/data.yml", "evacuate/collection/galaxy.yml",
            "evacuate/collection/plugins/modules/restore_files.py",
            "evacuate/collection/plugins/module_utils/evacuate_step.py",
            "evacuate/inventory/facts/sh/sysctl.sh", "evacuate/rebuild/sh/pgcarry.sh",
            "evacuate/snapshot/host/xattrs_dump.py", "evacuate/snapshot/host/xattrs_load.py",
            } <= shipped
    roles = {p.relative_to(REPO / "playbooks") for p in (REPO / "playbooks").rglob("*")
             if p.is_file()}
    assert roles and {f"evacuate/playbooks/{r}" for r in roles} <= shipped


RENDER = """
import json, sys
from pathlib import Path
import evacuate
from evacuate.plan.persist import plan_from_json
from evacuate.plan.render import render_project
plan = plan_from_json(json.loads(Path(sys.argv[1]).read_text()))
project = render_project(plan, Path(sys.argv[2]), vault_document="vault\\n")
print(json.dumps({"package": evacuate.__file__,
                  "roles": sorted(p.name for p in (project / "roles").iterdir()),
                  "site": (project / "site.yml").is_file()}))
"""


def test_a_wheel_install_outside_the_checkout_plans(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    # The dependencies are the checkout venv's (offline): its site-packages as a plain path
    # (a .pth line adds the folder; the editable install's own .pth in it is not run).
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                      "['purelib'])"]).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)])

    away = tmp_path / "elsewhere"
    away.mkdir()
    helped = _run([str(venv / "bin" / "evacuate"), "--help"], cwd=away)
    assert "Usage" in helped.stdout and "plan" in helped.stdout
    shutil.copy(PLAN_FIXTURE, away / "plan.json")
    rendered = json.loads(_run([str(python), "-c", RENDER, "plan.json", "project"],
                               cwd=away).stdout)
    assert Path(rendered["package"]).is_relative_to(venv), rendered  # not the checkout
    assert rendered["site"]
    assert rendered["roles"] == sorted(p.name for p in (REPO / "playbooks" / "roles").iterdir())
