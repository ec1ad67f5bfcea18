"""units.sh, the services role's one systemctl call for all units, against a fake systemctl
that keeps each unit's state in files: it acts on the units the systemd_service module
would act on, in one call, and prints them (the role's changed_when)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from evacuate.rebuild import __file__ as REBUILD

SCRIPT = Path(REBUILD).parent / "sh" / "units.sh"
ROLE_FILE = Path(REBUILD).parents[2] / "playbooks" / "roles" / "services" / "files" / "units.sh"

FAKE = """#!/bin/sh
# fake systemctl: enabled/UNIT holds is-enabled's answer, active/UNIT the ActiveState
echo "$*" >> "$STATE/calls"
case $1 in
is-enabled)
    [ -f "$STATE/enabled/$2" ] || { echo disabled; exit 1; }
    cat "$STATE/enabled/$2"; exit 0 ;;
show)
    cat "$STATE/active/$4" 2>/dev/null || echo inactive ;;
enable|start|restart)
    verb=$1; shift
    for unit in "$@"; do
        [ -e "$STATE/missing/$unit" ] && { echo "Failed to $verb $unit: Unit $unit not found." >&2; exit 5; }
    done
    for unit in "$@"; do
        case $verb in enable) echo enabled > "$STATE/enabled/$unit" ;;
        *) echo active > "$STATE/active/$unit" ;; esac
    done ;;
esac
"""


@pytest.fixture
def state(tmp_path: Path) -> Path:
    for name in ("bin", "enabled", "active", "missing"):
        (tmp_path / name).mkdir()
    fake = tmp_path / "bin" / "systemctl"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    return tmp_path


def _units(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STATE=str(state), PATH=f"{state / 'bin'}:{os.environ['PATH']}")
    return subprocess.run(["sh", str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, check=False)


def _calls(state: Path) -> list[str]:
    return [c for c in (state / "calls").read_text().splitlines()
            if c.split()[0] in ("enable", "start", "restart")]


def test_the_role_runs_this_script() -> None:
    assert ROLE_FILE.resolve() == SCRIPT.resolve()


def test_enable_acts_on_what_is_not_enabled_in_one_call(state: Path) -> None:
    (state / "enabled" / "nginx.service").write_text("enabled\n")
    (state / "enabled" / "getty@.service").write_text("static\n")
    (state / "enabled" / "alias.service").write_text("alias\n")
    done = _units(state, "enable", "nginx.service", "getty@.service", "alias.service",
                  "notes.service", "notes-cleanup.timer")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["alias.service", "notes.service", "notes-cleanup.timer"]
    assert _calls(state) == ["enable alias.service notes.service notes-cleanup.timer"]
    again = _units(state, "enable", "nginx.service", "notes.service", "notes-cleanup.timer")
    assert (again.returncode, again.stdout) == (0, "")
    assert len(_calls(state)) == 1


def test_start_leaves_active_units_and_restart_restarts_all_but_sockets(state: Path) -> None:
    (state / "active" / "nginx.service").write_text("active\n")
    (state / "active" / "ssh.socket").write_text("active\n")
    started = _units(state, "start", "nginx.service", "ssh.socket", "notes.service",
                     "postfix.socket")
    assert started.stdout.split() == ["notes.service", "postfix.socket"]
    assert _calls(state) == ["start notes.service postfix.socket"]
    restarted = _units(state, "restart", "nginx.service", "ssh.socket", "notes.service",
                       "cups.socket")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.split() == ["cups.socket", "nginx.service", "notes.service"]
    assert _calls(state)[1:] == ["start cups.socket", "restart nginx.service notes.service"]
    assert (_units(state, "start", "nginx.service", "notes.service").stdout) == ""


def test_a_unit_systemctl_cannot_act_on_fails_the_call_with_its_message(state: Path) -> None:
    (state / "missing" / "gone.service").touch()
    failed = _units(state, "start", "notes.service", "gone.service")
    assert failed.returncode == 5
    assert "Unit gone.service not found" in failed.stderr and failed.stdout == ""
    assert _units(state, "stop", "notes.service").returncode == 2
