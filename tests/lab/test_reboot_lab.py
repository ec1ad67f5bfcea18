"""A lab host can reboot (``verify --after-reboot`` reboots the target): ``systemctl
reboot`` inside it ends nspawn with status 133, the supervisor starts it again, and the
host comes back healthy with a new PID 1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from evacuate.errors import EvacuateError
from evacuate.lab import hosts, images
from evacuate.lab.lab import Lab, LabHostSpec, LabSpec
from tests.lab.conftest import running_lab

# a lab of its own: running_lab() first removes a lab of the same id, so the session's
# shared lab must never be reused here
REBOOT_LAB = ("erb", 24)

BOOT_ID = "awk '{print $22}' /proc/1/stat"  # when PID 1 started (a container shares the
# kernel's boot_id with its host)


@pytest.fixture(scope="module")
def target_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    spec = LabSpec(lab_id=REBOOT_LAB[0], index=REBOOT_LAB[1], hosts=(
        LabHostSpec("lab-target", "target", 20, images.target_image()),))
    with running_lab(*REBOOT_LAB, tmp_path_factory.mktemp("reboot"),
                     spec) as lab:
        yield lab


def _boot_id(lab: Lab) -> str | None:
    try:
        with lab.open("lab-target", connect_timeout=2.0) as target:
            return target.run(BOOT_ID, timeout=10, check=True).text.strip()
    except EvacuateError:
        return None


def test_a_rebooted_host_comes_back_healthy(target_only: Lab) -> None:
    lab = target_only
    layout = lab.layout(lab.host("lab-target"))
    supervisor = hosts.nspawn_pid(layout)
    first = _boot_id(lab)
    assert first and supervisor
    with lab.open("lab-target") as target, pytest.raises(EvacuateError):
        # the connection drops while the host goes down (or the command returns first)
        target.run("systemctl reboot; sleep 30", timeout=60, check=True)
    deadline = time.monotonic() + 180
    second = None
    while time.monotonic() < deadline:
        second = _boot_id(lab)
        if second and second != first:
            break
        time.sleep(0.5)
    assert second and second != first, "the host did not come back with a new boot"
    assert hosts.nspawn_pid(layout) == supervisor  # the same supervisor restarted nspawn
    (status,) = lab.status()
    deadline = time.monotonic() + 120
    while not status.healthy and time.monotonic() < deadline:
        time.sleep(0.5)
        (status,) = lab.status()
    assert status.healthy, status
    assert "rebooted; starting it again" in layout.console_log.read_text(errors="replace")
