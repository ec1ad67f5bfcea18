"""A source reached as a user whose sudo wants a password: evacuate reads the password from
EVACUATE_BECOME_PASSWORD, feeds it to ``sudo -S`` on stdin (never on a command line), and
refuses a wrong one in one line; without it the error says what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab.lab import Lab
from tests.lab.test_lab import openssh

PASSWORD = "Canary-sudo-pw-7731"  # a canary: must appear in no output and no file


@pytest.fixture
def carol(lab: Lab) -> Iterator[str]:
    """lab-target with a user carol whose sudo asks for her password; reset afterwards."""
    setup = openssh(lab, "lab-target", "sh", "-c", "'"
                    "useradd -m -s /bin/bash carol && echo carol:" + PASSWORD + " | chpasswd && "
                    "echo \"carol ALL=(ALL) ALL\" > /etc/sudoers.d/carol && "
                    "chmod 440 /etc/sudoers.d/carol && install -d -o carol -m 700 ~carol/.ssh && "
                    "install -o carol -m 600 /root/.ssh/authorized_keys ~carol/.ssh/'")
    assert setup.returncode == 0, setup.stderr
    try:
        yield f"carol@{lab.address('lab-target')}"
    finally:
        lab.reset("lab-target")


def _evacuate(lab: Lab, tmp_path: Path, spec: str, password: str | None, *args: str
              ) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\n"
                      f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
                      f"hosts:\n  box:\n    ssh: {spec}\n    become: true\n")
    env = {k: v for k, v in os.environ.items() if k != "EVACUATE_BECOME_PASSWORD"}
    if password is not None:
        env["EVACUATE_BECOME_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=300, check=False, env=env)


def _inventory(lab: Lab, tmp_path: Path, spec: str, password: str | None
               ) -> subprocess.CompletedProcess[str]:
    return _evacuate(lab, tmp_path, spec, password, "inventory", "box", "--json")


def _errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def test_sudo_with_a_password(lab: Lab, carol: str, tmp_path: Path) -> None:
    missing = _inventory(lab, tmp_path, carol, None)
    assert missing.returncode != 0 and len(_errors(missing)) == 1, missing.stderr
    assert "EVACUATE_BECOME_PASSWORD" in missing.stderr

    wrong = _inventory(lab, tmp_path, carol, "not-her-password")
    assert wrong.returncode == 4 and len(_errors(wrong)) == 1, wrong.stderr
    assert "sudo refused the password" in wrong.stderr

    right = _inventory(lab, tmp_path, carol, PASSWORD)
    assert right.returncode == 0, right.stderr[-2000:]
    inventory = json.loads(right.stdout)
    users = {u["name"]: u for u in inventory["users"]}
    assert users["carol"]["has_password"]  # read from /etc/shadow: only root can
    assert not {"users", "packages", "systemd"} & set(inventory["errors"])

    # Streams work the same way: a snapshot reads root-only files through sudo -S.
    snap = _evacuate(lab, tmp_path, carol, PASSWORD, "snapshot", "box", "--json",
                     "--store", str(tmp_path / "store"))
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert json.loads(snap.stdout)["totals"]["files"] > 100
    checked = _evacuate(lab, tmp_path, carol, None, "check", "--read-data",
                        "--store", str(tmp_path / "store"))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    for proc in (missing, wrong, right, snap, checked):
        assert PASSWORD not in proc.stdout + proc.stderr
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
