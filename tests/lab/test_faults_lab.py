"""Faults: the network to the source drops in the middle of a snapshot. The snapshot fails
with one line (no hang, no traceback), nothing half-done is listed, and a re-run completes
and checks clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from evacuate.lab import network
from evacuate.lab.lab import Lab


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evacuate", *args], capture_output=True,
                          text=True, timeout=600, check=False, env=env)


def test_network_drop_mid_snapshot_fails_cleanly_and_a_rerun_completes(
        lab: Lab, tmp_path: Path) -> None:
    lab.reset("lab-source")
    with lab.open("lab-source") as source:
        source.run("head -c 400M /dev/urandom > /srv/big.bin", timeout=300, check=True)
    common = ["--state-dir", str(tmp_path / "state")]
    ssh = ["--known-hosts", str(lab.known_hosts), "-i", str(lab.key)]
    env = dict(os.environ, EVACUATE_KEEPALIVE="2", EVACUATE_STREAM_IDLE_TIMEOUT="5")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evacuate", "snapshot", lab.ssh_spec("lab-source"), *ssh,
             *common], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(2.5)  # past the inventory and the dumps, into the file stream
        network.set_link(lab.spec.network, "source", up=False)
        started = time.monotonic()
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            network.set_link(lab.spec.network, "source", up=True)
        assert time.monotonic() - started < 60, "a dropped network must not hang the snapshot"
        assert proc.returncode in (4, 6), (proc.returncode, out, err)
        assert "Traceback" not in out + err
        assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
        listed = _cli("snapshots", "--json", *common)
        assert listed.returncode == 0 and json.loads(listed.stdout) == []

        again = _cli("snapshot", lab.ssh_spec("lab-source"), *ssh, *common)
        assert again.returncode == 0, again.stderr
        checked = _cli("check", "--read-data", *common)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        lab.reset("lab-source")
