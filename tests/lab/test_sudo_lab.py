"""A source reached as a user whose sudo wants a password: evacuate reads the password from
EVACUATE_BECOME_PASSWORD, feeds it to ``sudo -S`` on stdin (never on a command line: the
test reads every command line and environment on the machine while sudo runs), and
refuses a wrong one in one line; without it the error says what to do. Files are copied to
and from root-only places through the real sudo."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.errors import RemoteCommandError
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.transport import ConnectOptions, open_transport
from tests.lab import processes
from tests.lab.gate import tar_gate
from tests.lab.test_lab import openssh

# A canary: must appear in no output, no file, no command line and no environment but
# evacuate's own. Fresh for each run: another run on the machine has its own.
PASSWORD = f"Canary-sudo-pw-{secrets.token_hex(4)}"


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


def _scan_for(needle: bytes, own: int) -> list[str]:
    """Every command line, and every environment but process ``own``'s, holding ``needle``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        for part in ("cmdline", "environ"):
            if part == "environ" and int(entry.name) == own:
                continue
            try:
                with open(f"/proc/{entry.name}/{part}", "rb") as stream:
                    if needle in stream.read():
                        found.append(f"{entry.name}/{part}")
            except OSError:
                continue
    return found


def _watched(lab: Lab, tmp_path: Path, spec: str, *args: str) -> tuple[
        subprocess.CompletedProcess[str], int]:
    """``_evacuate`` with the password, while the machine's process list is read: the
    password must be in no process's command line and in no environment but evacuate's own
    (where the operator put it). The first tar run through sudo on the target is held by
    ``tests/lab/gates/tar`` until the list was read with carol's sudo known to be running,
    so the observation does not depend on catching a short process. Return the result and
    how many scans saw carol's sudo running on the target."""
    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\n"
                      f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
                      f"hosts:\n  box:\n    ssh: {spec}\n    become: true\n")
    env = dict(os.environ, EVACUATE_BECOME_PASSWORD=PASSWORD)
    out, err = (tmp_path / "watched.out").open("w+"), (tmp_path / "watched.err").open("w+")
    with lab.open("lab-target") as target, tar_gate(target, "sudo") as gate:
        proc = subprocess.Popen([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                                stdout=out, stderr=err, text=True, env=env)
        found: list[str] = []
        saw_sudo = 0
        try:
            held = False
            while proc.poll() is None and not held:
                found += _scan_for(PASSWORD.encode(), proc.pid)
                held = gate.held()
            assert held, "no tar ran through sudo on the target"
            for _ in range(20):  # sudo is held: it cannot end between these scans
                found += _scan_for(PASSWORD.encode(), proc.pid)
                saw_sudo += any(p.comm == "sudo" for p in processes.processes(lab, "lab-target"))
        finally:
            gate.release()
        while proc.poll() is None:
            found += _scan_for(PASSWORD.encode(), proc.pid)
            time.sleep(0.02)
    with out, err:
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
    assert not found, found
    return result, saw_sudo


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

    # Streams work the same way: a snapshot reads root-only files through sudo -S. While it
    # runs, the password is on no command line and in no environment but evacuate's.
    snap, saw_sudo = _watched(lab, tmp_path, carol, "snapshot", "box", "--json",
                              "--store", str(tmp_path / "store"))
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert saw_sudo == 20, "carol's sudo was not running while it was held"
    # root-only files came through sudo: carol's sudoers drop-in (0440 root) and her home
    repo = open_repository(None, StateDir(tmp_path / "state"), str(tmp_path / "store"))
    manifest = repo.latest("box")
    assert manifest is not None
    paths = {e.path for e in manifest.files}
    assert {"/etc/sudoers.d/carol", "/home/carol/.ssh/authorized_keys"} <= paths, sorted(paths)
    checked = _evacuate(lab, tmp_path, carol, None, "check", "--read-data",
                        "--store", str(tmp_path / "store"))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    for proc in (missing, wrong, right, snap, checked):
        assert PASSWORD not in proc.stdout + proc.stderr
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_files_are_copied_through_the_real_sudo(lab: Lab, carol: str, tmp_path: Path) -> None:
    """put and get as carol with become: through ``sudo -S`` (the password first on stdin,
    then the file), into and out of places only root can write or read."""
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(2 * 2**20))
    with open_transport(carol, ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key,
                                              become=True, become_password=PASSWORD)) as box:
        assert box.run("id -un", check=True).text == "root\n"
        box.put(source, "/root/copied.bin", mode=0o604)
        assert box.run(["stat", "-c", "%a %U", "/root/copied.bin"], check=True).text == \
            "604 root\n"
        box.get("/root/copied.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
        box.get("/etc/shadow", tmp_path / "shadow")  # root-only
        assert b"\ncarol:$" in b"\n" + (tmp_path / "shadow").read_bytes()
        with pytest.raises(RemoteCommandError, match="file copy failed"):
            box.get("/root/missing", tmp_path / "nothing")
        assert not (tmp_path / "nothing").exists()
    with lab.open("lab-target") as root:  # as root, not through carol: what really landed
        assert root.run("sha256sum < /root/copied.bin", check=True).text.split()[0] == \
            hashlib.sha256(source.read_bytes()).hexdigest()
