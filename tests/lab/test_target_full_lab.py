"""A run meets a target whose /srv is too small, or fills up midway, and runs killed while
they snapshot and while they activate: each stops with what it needs said (or nothing
half-done kept), and ``run --resume`` completes to a verified target."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab.lab import Lab
from tests.lab import processes
from tests.lab.gate import tar_gate
from tests.lab.test_run_lab import _journal, _kill_run, evacuate, write_config


def _in_target(lab: Lab, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command in lab-target's mount namespace, from the machine (as a hoster would
    attach or grow a disk)."""
    return processes.in_host(lab, "lab-target", *command)


@pytest.fixture(scope="module")
def plan_of_fresh_source(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh source and the plan source → target (its config returned), for every test
    here: each run starts a new journal. The target is reset before planning too: the plan
    chooses account ids from the target it inventories, and each test gets it blank again."""
    lab.reset("lab-source")
    lab.reset("lab-target")
    config = write_config(lab, tmp_path_factory.mktemp("target-full"))
    made = evacuate(config, "plan", "source", "--to", "target")
    assert made.returncode == 0, made.stderr[-3000:]
    return config


@pytest.fixture
def planned(lab: Lab, plan_of_fresh_source: Path) -> Iterator[Path]:
    """The plan, and a blank target."""
    lab.reset("lab-target")
    yield plan_of_fresh_source


def _snapshot_ids(config: Path) -> list[str]:
    listed = evacuate(config, "snapshots", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    return [s["id"] for s in json.loads(listed.stdout)]


def _resume_to_verified(config: Path) -> subprocess.CompletedProcess[str]:
    resumed = evacuate(config, "run", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "(done before, skipped)" in resumed.stderr and "verify done" in resumed.stderr
    assert _journal(config)["steps"]["verify"]["status"] == "done"
    return resumed


def test_a_target_too_small_for_srv_says_so_and_resumes_once_grown(
        lab: Lab, planned: Path) -> None:
    """/srv on the target is its own 20 MiB file system; the source's /srv/data holds a
    64 MiB sparse file, restored whole before its holes are dug: the files step refuses
    before writing, naming the target, /srv and the sizes; grown to 200 MiB, --resume
    completes."""
    config = planned
    mounted = _in_target(lab, "mount", "-t", "tmpfs", "-o", "size=20m,mode=0755", "tmpfs",
                         "/srv")
    assert mounted.returncode == 0, mounted.stderr
    try:
        ran = evacuate(config, "run")
        output = ran.stdout + ran.stderr
        assert ran.returncode == 1, output[-3000:]
        assert "Traceback" not in output
        errors = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, ran.stderr[-3000:]
        assert errors[0].startswith(f"error: target ({lab.ssh_spec('lab-target')}"), errors[0]
        assert "): not enough disk space for the files on /srv: needs about " in errors[0]
        assert errors[0].endswith(", 20 MiB free"), errors[0]
        needs = float(errors[0].split("needs about ", 1)[1].split(" MiB", 1)[0])
        assert needs >= 64, errors[0]  # the sparse file counts in full
        assert "hint:" in ran.stderr and "--resume" in ran.stderr
        steps = _journal(config)["steps"]
        assert steps["prepare"]["status"] == "done"
        assert steps.get("files", {}).get("status") != "done"
        with lab.open("lab-target") as target:  # refused before a byte was written
            assert target.run("find /srv -type f", timeout=30, check=True).text == ""

        grown = _in_target(lab, "mount", "-o", "remount,size=200m", "/srv")
        assert grown.returncode == 0, grown.stderr
        resumed = _resume_to_verified(config)
        assert "files done" in resumed.stderr
        with lab.open("lab-target") as target:
            srv = target.run("df -P -k /srv/data; du -k /srv/data/sparse.img", timeout=30,
                             check=True).text
        assert " /srv\n" in srv  # restored onto the small file system, holes dug again
        assert int(srv.rsplit("\n", 2)[-2].split()[0]) < 1024, srv
    finally:
        _in_target(lab, "umount", "-l", "/srv")


def test_a_target_filling_up_midway_says_so_and_resumes_once_freed(
        lab: Lab, planned: Path) -> None:
    """/srv on the target is a 200 MiB file system: enough, so the files step starts. The
    test holds the target's tar as it starts (a gate ahead of it on PATH) and fills /srv from outside (as another
    tenant of the disk would), then lets it go: tar meets a real "No space left on device"
    and the run stops in one line naming the target, /srv and the sizes; with the filler
    removed, --resume completes."""
    config = planned
    mounted = _in_target(lab, "mount", "-t", "tmpfs", "-o", "size=200m,mode=0755", "tmpfs",
                         "/srv")
    assert mounted.returncode == 0, mounted.stderr
    try:
        proc = subprocess.Popen([sys.executable, "-m", "evacuate", "run", "-c", str(config)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        outputs: list[str] = []
        reader = threading.Thread(target=lambda: outputs.extend(proc.communicate()))
        reader.start()
        with lab.open("lab-target") as target, tar_gate(target, "extract") as gate:
            try:
                while proc.poll() is None and not gate.held():
                    time.sleep(0.1)
                assert gate.held(), "the files step's tar never started"
                # fill what is left (dd stops at ENOSPC: its exit status says nothing)
                _in_target(lab, "dd", "if=/dev/zero", "of=/srv/filler", "bs=1M", "status=none")
                df = _in_target(lab, "df", "-P", "-k", "/srv").stdout
                assert int(df.splitlines()[-1].split()[3]) < 1024, df
            finally:
                gate.release()
                reader.join(timeout=900)
        stdout, stderr = outputs
        assert proc.returncode == 1, stderr[-3000:]
        assert "Traceback" not in stdout + stderr
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, stderr[-3000:]
        assert errors[0].startswith(f"error: target ({lab.ssh_spec('lab-target')}"), errors[0]
        # each file system written to, with what it needs and has free now
        assert "): ran out of disk space restoring files on " in errors[0], errors[0]
        assert "/srv: needs about " in errors[0] and errors[0].endswith(" MiB free"), errors[0]
        srv = errors[0].split("/srv: needs about ", 1)[1].split(";")[0]
        assert float(srv.split(" MiB, ")[1].split()[0]) < 1, errors[0]  # full
        assert "hint:" in stderr and "--resume" in stderr
        assert _journal(config)["steps"].get("files", {}).get("status") != "done"

        assert _in_target(lab, "rm", "/srv/filler").returncode == 0
        resumed = _resume_to_verified(config)
        assert "files done" in resumed.stderr
    finally:
        _in_target(lab, "umount", "-l", "/srv")


def test_a_run_killed_while_it_snapshots_resumes_and_lists_no_partial_snapshot(
        lab: Lab, planned: Path) -> None:
    """SIGKILL while the run's snapshot writes a blob (a 200 MB file on the source keeps
    one in flight): the store lists the same snapshots as before and checks clean;
    --resume takes the snapshot again and ends verified."""
    config = planned
    store = config.parent / "state" / "store"
    before = _snapshot_ids(config)
    with lab.open("lab-source") as source:
        source.run("head -c 200M /dev/urandom > /srv/big.bin", timeout=300, check=True)

    def writing_a_blob(out: str) -> bool:
        return "] snapshot: " in out and any(store.rglob(".tmp-*"))

    try:
        out = _kill_run(config, when=writing_a_blob)
        assert "snapshot done" not in out, out[-2000:]
        assert not _journal(config)["steps"]
        assert _snapshot_ids(config) == before
        checked = evacuate(config, "check")
        assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]

        resumed = evacuate(config, "run", "--resume")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "snapshot done" in resumed.stderr and "verify done" in resumed.stderr
        after = _snapshot_ids(config)
        assert after[:len(before)] == before and len(after) == len(before) + 1
        assert _journal(config)["snapshot_id"] == after[-1]
        with lab.open("lab-target") as target:
            assert target.run("stat -c %s /srv/big.bin", timeout=30,
                              check=True).text.strip() == str(200 * 2**20)
    finally:
        with lab.open("lab-source") as source:
            source.run("rm -f /srv/big.bin", timeout=60, check=True)


def test_a_run_killed_while_it_activates_resumes(lab: Lab, planned: Path) -> None:
    """SIGKILL while the activate playbook runs (services being enabled and started):
    the journal keeps every step before it, and --resume runs activate again, verified."""
    config = planned
    artifacts = config.parent / "state" / "plans" / "source-to-target" / "runner" / "artifacts"
    playing = [0.0]

    def activating(out: str) -> bool:  # a few seconds into the activate playbook
        if not playing[0] and "] activate: " in out and any(artifacts.glob("activate-*")):
            playing[0] = time.monotonic()
        return bool(playing[0]) and time.monotonic() - playing[0] > 3

    out = _kill_run(config, when=activating)
    assert "databases done" in out and "activate done" not in out, out[-2000:]
    steps = _journal(config)["steps"]
    assert {s for s, v in steps.items() if v["status"] == "done"} == {
        "snapshot", "prepare", "files", "databases"}
    listed = _snapshot_ids(config)

    resumed = _resume_to_verified(config)
    assert "activate done" in resumed.stderr
    assert _snapshot_ids(config) == listed  # the run's snapshot is reused, not taken again
    with lab.open("lab-target") as target:
        assert target.run("systemctl is-active notes.service nginx postgresql mariadb",
                          timeout=60).text.split() == ["active"] * 4
