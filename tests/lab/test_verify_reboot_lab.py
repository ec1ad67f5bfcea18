"""``verify --after-reboot`` against real hosts that really reboot: a copy of lab-source
(booted from the source image, so that it verifies clean against the source's snapshot)
survives its reboot, and passes; the same copy with a service enabled only until the next
boot (``systemctl enable --runtime``) passes the first verification and fails the one after
the reboot, naming the service; the source itself is never rebooted, under any name;
``rehearse`` reboots the target it restored and verifies it again."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from evacuate.actions.snapshot import snapshot_host
from evacuate.actions.verify import verify_across_reboot
from evacuate.errors import UsageError
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab import aptrepo, images
from evacuate.lab.lab import Lab, LabHostSpec, LabSpec, source_services
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from evacuate.verify.after_reboot import UNTIL_NEXT_BOOT
from tests.lab.conftest import running_lab

# a lab of its own: running_lab() first removes a lab of the same id, so the session's
# shared lab must never be reused here
PAIR_LAB = ("erv", 25)

READ_BOOT = "cat /proc/sys/kernel/random/boot_id"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """lab-source and lab-copy, a second host booted from the source image."""
    image = images.source_image()
    spec = LabSpec(lab_id=PAIR_LAB[0], index=PAIR_LAB[1], hosts=(
        LabHostSpec("lab-source", "source", 10, image, source_services()),
        LabHostSpec("lab-copy", "copy", 30, image, source_services())))
    with running_lab(*PAIR_LAB, tmp_path_factory.mktemp("reboot"),
                     spec) as lab:
        yield lab


@dataclass(frozen=True)
class Taken:
    state: Path  # its store is the default one, <state>/store
    repo: SnapshotRepository
    manifest: SnapshotManifest


@pytest.fixture(scope="module")
def snapshot(pair: Lab, tmp_path_factory: pytest.TempPathFactory) -> Taken:
    state = tmp_path_factory.mktemp("state")
    repo = open_repository(None, StateDir(state), create=True)
    return Taken(state, repo, snapshot_host(_ref(pair, "lab-source"), _options(pair), repo,
                                            None))


def _cli(lab: Lab, taken: Taken, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evacuate", "verify", *args, "--snapshot", taken.manifest.id,
         "--state-dir", str(taken.state), "--known-hosts", str(lab.known_hosts),
         "-i", str(lab.key)], capture_output=True, text=True, timeout=900, check=False)


def _ref(lab: Lab, name: str) -> HostRef:
    """The host as the command line names it (snapshots are filed under that label)."""
    spec = parse_host_spec(lab.ssh_spec(name))
    return HostRef(str(spec), spec)


def _options(lab: Lab) -> ConnectOptions:
    return ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)


def _boot_id(lab: Lab, name: str) -> str:
    with lab.open(name) as host:
        return str(host.run(READ_BOOT, timeout=30, check=True).text.strip())


def test_a_copy_of_the_source_passes_before_and_after_its_reboot(
        pair: Lab, snapshot: Taken) -> None:
    repo, manifest = snapshot.repo, snapshot.manifest
    source_boot, copy_boot = _boot_id(pair, "lab-source"), _boot_id(pair, "lab-copy")
    result = verify_across_reboot(_ref(pair, "lab-source"), _ref(pair, "lab-copy"),
                                  _options(pair), repo, None, manifest=manifest)
    failures = [(c.id, c.detail) for c in result.merged.failures()]
    assert result.before.ok and result.after.ok and result.passes(strict=True), failures
    assert result.lost == []
    assert result.outcome.before.boot_id == copy_boot
    assert result.outcome.after.boot_id == _boot_id(pair, "lab-copy") != copy_boot
    assert result.outcome.system_state == "running"
    reboot = {c.name: c for c in result.merged.checks if c.area == "reboot"}
    assert set(reboot) == {"new boot", "system state"}
    assert not any(c.failed for c in reboot.values())
    assert _boot_id(pair, "lab-source") == source_boot  # the source was not rebooted


def test_a_service_enabled_until_the_next_boot_fails_after_the_reboot(
        pair: Lab, snapshot: Taken) -> None:
    with pair.open("lab-copy") as copy:  # running, "enabled", but only in /run
        copy.run("systemctl disable notes.service && systemctl enable --runtime "
                 "notes.service && systemctl is-active notes.service", timeout=60, check=True)
        # and a unit of its own that fails at boot: the copy comes up degraded (no hang)
        copy.run("printf '[Service]\\nType=oneshot\\nExecStart=/bin/false\\n[Install]\\n"
                 "WantedBy=multi-user.target\\n' > /etc/systemd/system/fails-at-boot.service"
                 " && systemctl enable fails-at-boot.service", timeout=60, check=True)
    source_boot = _boot_id(pair, "lab-source")
    # through the command line: the summary, the JSON report and the exit code
    proc = _cli(pair, snapshot, pair.ssh_spec("lab-source"), pair.ssh_spec("lab-copy"),
                "--after-reboot", "--reboot-timeout", "240", "--json")
    assert proc.returncode == 1, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    data = json.loads(proc.stdout)
    lost = data["after_reboot"]["lost_on_reboot"]
    assert "services:notes.service" in lost, lost
    assert data["after_reboot"]["before_ok"] is True
    assert data["after_reboot"]["after_ok"] is False
    checks = {c["id"]: c for c in data["checks"]}
    notes = checks["services:notes.service"]
    assert notes["status"] == "fail" and UNTIL_NEXT_BOOT in notes["detail"]
    assert "not running" in notes["detail"]
    assert checks["reboot:new boot"]["status"] == "pass"
    state = checks["reboot:system state"]
    assert state["status"] == "fail" and state["expected"] == "running", state
    assert state["found"] == "degraded" and "fails-at-boot.service" in state["detail"]
    assert data["after_reboot"]["failed_units"] == ["fails-at-boot.service"]
    assert _boot_id(pair, "lab-source") == source_boot


def test_the_source_is_never_rebooted_under_any_name(
        pair: Lab, snapshot: Taken) -> None:
    repo, manifest = snapshot.repo, snapshot.manifest
    before = _boot_id(pair, "lab-source")
    source = _ref(pair, "lab-source")
    with pytest.raises(UsageError, match="never reboots the source"):
        verify_across_reboot(source, source, _options(pair), repo, None, manifest=manifest)
    # the same host under its ssh config alias: the same machine id and boot
    alias = HostRef("alias", parse_host_spec("lab-source"))
    options = ConnectOptions(known_hosts=pair.known_hosts, identity=pair.key,
                             ssh_config=pair.ssh_config)
    with pytest.raises(UsageError, match="never reboots the source"):
        verify_across_reboot(source, alias, options, repo, None, manifest=manifest)
    proc = _cli(pair, snapshot, pair.ssh_spec("lab-source"), pair.ssh_spec("lab-source"),
                "--after-reboot")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "never reboots the source" in proc.stderr and "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("error:")]) == 1
    assert _boot_id(pair, "lab-source") == before


def test_rehearse_reboots_the_restored_target_and_verifies_again(
        pair: Lab, snapshot: Taken, tmp_path: Path) -> None:
    pair.reset("lab-copy")  # the test before left notes enabled only until the next boot
    with pair.open("lab-copy") as copy:  # installs from the lab repository, as a blank target
        copy.run("rm -f /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] http://"
                 f"{pair.spec.network.gateway}:{aptrepo.repo_port(pair.spec.index)}/"
                 f"{pair.spec.suite} ./' > /etc/apt/sources.list", timeout=30, check=True)
    config = tmp_path / "evacuate.yml"
    config.write_text(
        f"state_dir: {snapshot.state}\n"
        f"ssh:\n  known_hosts: {pair.known_hosts}\n  identity_file: {pair.key}\n"
        f"hosts:\n  source:\n    ssh: {pair.ssh_spec('lab-source')}\n"
        f"targets:\n  copy:\n    ssh: {pair.ssh_spec('lab-copy')}\n")
    run = [sys.executable, "-m", "evacuate"]
    taken = subprocess.run([*run, "snapshot", "source", "-c", str(config)],
                           capture_output=True, text=True, timeout=900, check=False)
    assert taken.returncode == 0, taken.stderr[-2000:]
    copy_boot, source_boot = _boot_id(pair, "lab-copy"), _boot_id(pair, "lab-source")
    reports = tmp_path / "reports"
    rehearsed = subprocess.run([*run, "rehearse", "source", "--target", "copy", "--reports",
                                str(reports), "-c", str(config)], capture_output=True,
                               text=True, timeout=1800, check=False)
    error = reports / "rehearsal-source.error.txt"
    assert not error.exists(), error.read_text()
    data = json.loads((reports / "rehearsal-source.json").read_text())
    print(f"rehearsal onto lab-copy: ok={data['ok']} {data['counts']} "
          f"{[c['id'] for c in data['checks'] if c['status'] == 'fail'][:10]}")
    assert data["after_reboot"]["boot_id_before"] != data["after_reboot"]["boot_id_after"]
    assert data["after_reboot"]["boot_id_after"] == _boot_id(pair, "lab-copy") != copy_boot
    assert {c["id"] for c in data["checks"]} >= {"reboot:new boot", "reboot:system state"}
    assert _boot_id(pair, "lab-source") == source_boot
    assert data["ok"] and rehearsed.returncode == 0, rehearsed.stderr[-2000:]
    assert "rehearsal of source: passed" in rehearsed.stderr
