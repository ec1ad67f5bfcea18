"""A fleet of three real hosts in two waves (first: lab-fleet-a and lab-fleet-b, two at
once; second: lab-fleet-c), each onto its own blank target, through the real CLI:
``plan --all`` plans every host; ``run --all`` moves lab-fleet-a and lab-fleet-b at the
same time, and with lab-fleet-b's ``after_run`` hook failing, verifies lab-fleet-a all the
same, does not start the second wave, exits 1, says so per host in JSON and notifies a
webhook. With the hook's cause fixed, the same ``run --all``, killed (SIGKILL) while
lab-fleet-c is between its files and its verify, then run again: lab-fleet-a is left alone
(done and verified, per its journal), lab-fleet-b continues its own journal (its hook
again, no step again), lab-fleet-c continues its journal without redoing what the killed
run did. Every run has a fleet-wide limit (``fleet_limit_rate``, high enough not to slow
it): the JSON of the first run shows the bytes of both hosts of its wave charged on its one
bucket, and the plans' estimates assume each host's share of it. Then ``run fleet-a fleet-b
--cutover`` with fleet-b's ``before_cutover`` hook failing: fleet-a cuts over, fleet-b is a
failed result; with the hook's cause fixed, again: fleet-a was cut over before (its
journal), fleet-b cuts over."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.lab.lab import Lab
from evacuate.lab.shapes import FLEET_SOURCES, FLEET_TARGETS, fleet_lab
from tests.integration.test_notify import Endpoint
from tests.lab.conftest import running_lab
from tests.lab.test_run_lab import evacuate

# a lab of its own; a developer running beside others may pick another id and index
LAB_ID = os.environ.get("EVACUATE_TEST_FLEET_LAB_ID", "ewf")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_FLEET_LAB_INDEX", "28"))
NAMES = ("fleet-a", "fleet-b", "fleet-c")  # their names in evacuate.yml
DATA = "/srv/app/data.txt"
FLEET_LIMIT = 200 * 2**20  # fleet_limit_rate: 200M, far above what the lab moves at

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("fleet-lab"),
                     fleet_lab(LAB_ID, LAB_INDEX)) as it:
        yield it


def _on(lab: Lab, host: str, command: str) -> str:
    with lab.open(host) as transport:
        return transport.run(command, timeout=120, check=True).text


def _config(lab: Lab, folder: Path, url: str) -> Path:
    hosts = "".join(f"  {name}:\n    ssh: {lab.ssh_spec(source)}\n    target: new-{name}\n"
                    for name, source in zip(NAMES, FLEET_SOURCES, strict=True))
    targets = "".join(f"  new-{name}:\n    ssh: {lab.ssh_spec(target)}\n"
                      for name, target in zip(NAMES, FLEET_TARGETS, strict=True))
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n{hosts}targets:\n{targets}"
        "waves:\n  - name: first\n    hosts: [fleet-a, fleet-b]\n    concurrency: 2\n"
        "  - name: second\n    hosts: [fleet-c]\n"
        "fleet_limit_rate: 200M\n"
        # fleet-b's run fails at its end while ./broken exists (in this file's directory),
        # its cutover before it stops anything while ./nocut does
        "hooks:\n  after_run:\n"
        "    - run: test \"$EVACUATE_HOST\" != fleet-b || test ! -e broken\n"
        "  before_cutover:\n"
        "    - run: test \"$EVACUATE_HOST\" != fleet-b || test ! -e nocut\n"
        f"notify:\n  urls: [{json.dumps(url)}]\n")
    return config


def _hosts(run: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    document = json.loads(run.stdout)
    return {h["host"]: h for h in document["hosts"]}


Fleet = dict[str, Any]


def _journal(folder: Path, name: str) -> dict[str, Any]:
    path = folder / "state" / "plans" / f"{name}-to-new-{name}" / "journal.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _killed_inside_fleet_c(config: Path, folder: Path) -> dict[str, Any]:
    """Start ``run --all`` and kill it (SIGKILL, its whole process group, Ansible too) once
    fleet-c's journal says its files are restored (before it says verified); return the
    journals as the kill left them, and when."""
    fleet = subprocess.Popen([sys.executable, "-m", "evacuate", "run", "--all", "-c",
                              str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    journal: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and fleet.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                journal = _journal(folder, "fleet-c")
            steps = journal.get("steps", {})
            if steps.get("files", {}).get("status") == "done":
                break
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(fleet.pid, signal.SIGKILL)
        fleet.wait(60)
    killed_at = time.time()
    return {"journals": {n: _journal(folder, n) for n in NAMES}, "at": killed_at}


@pytest.fixture(scope="module")
def fleet(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    for name, source in zip(NAMES, FLEET_SOURCES, strict=True):
        _on(lab, source, f"mkdir -p /srv/app && echo 'data of {name}' > {DATA} && "
                         "head -c 3000000 /dev/urandom > /srv/app/blob.bin")
    folder = tmp_path_factory.mktemp("fleet")
    endpoint = Endpoint()
    endpoint.thread.start()
    try:
        config = _config(lab, folder, endpoint.url)
        planned = evacuate(config, "plan", "--all", "--json")
        (folder / "broken").touch()
        failed = evacuate(config, "run", "--all", "--json")
        after_failure = {t: _on(lab, t, f"cat {DATA} 2>/dev/null || true")
                         for t in FLEET_TARGETS}
        received = list(endpoint.received)
        (folder / "broken").unlink()
        rerun_began = time.time()
        journals = {n: _journal(folder, n) for n in NAMES[:2]}
        killed = _killed_inside_fleet_c(config, folder)
        again = evacuate(config, "run", "--all", "--json")
        yield {"folder": folder, "planned": planned, "failed": failed, "again": again,
               "after_failure": after_failure, "received": received,
               "rerun_began": rerun_began, "killed": killed,
               "journals": journals}
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()


def test_the_fleet_plan_plans_every_host_onto_its_target(fleet: Fleet) -> None:
    planned = fleet["planned"]
    assert planned.returncode == 0, planned.stderr[-3000:]
    hosts = _hosts(planned)
    assert {h: (r["status"], r["target"], r["wave"]) for h, r in hosts.items()} == {
        "fleet-a": ("ok", "new-fleet-a", "first"), "fleet-b": ("ok", "new-fleet-b", "first"),
        "fleet-c": ("ok", "new-fleet-c", "second")}
    for name in NAMES:
        assert (fleet["folder"] / "state" / "plans" / f"{name}-to-new-{name}" /
                "plan.json").is_file()


def test_a_failed_host_leaves_its_wave_moving_and_stops_the_next_wave(fleet: Fleet) -> None:
    failed = fleet["failed"]
    assert failed.returncode == 1, failed.stderr[-3000:]
    document = json.loads(failed.stdout)
    assert (document["ok"], document["stopped_after"], document["counts"]) == (
        False, "first", {"ok": 1, "failed": 1, "skipped": 1})
    hosts = _hosts(failed)
    assert (hosts["fleet-a"]["status"], hosts["fleet-a"]["step"]) == ("ok", "verify")
    assert hosts["fleet-a"]["bytes"] > 3_000_000 and not hosts["fleet-a"]["done_before"]
    assert hosts["fleet-a"]["detail"].startswith("verified; snapshot ")
    assert (hosts["fleet-b"]["status"], hosts["fleet-b"]["step"]) == ("failed", "after_run")
    assert "after_run" in hosts["fleet-b"]["error"], hosts["fleet-b"]
    assert hosts["fleet-c"]["status"] == "skipped" and hosts["fleet-c"]["bytes"] == 0
    # fleet-b's data moved before its hook failed; fleet-c's wave never started
    assert fleet["after_failure"] == {"lab-new-a": "data of fleet-a\n",
                                      "lab-new-b": "data of fleet-b\n", "lab-new-c": ""}


def test_the_hosts_of_a_wave_moved_at_the_same_time(fleet: Fleet) -> None:
    """Each one's snapshot ended before the other's verify: their runs overlapped."""
    a, b = (fleet["journals"][n]["steps"] for n in NAMES[:2])
    assert a["snapshot"]["finished"] < b["verify"]["finished"]
    assert b["snapshot"]["finished"] < a["verify"]["finished"]


def test_the_failed_fleet_run_notifies_its_failed_host(fleet: Fleet) -> None:
    assert len(fleet["received"]) == 1, fleet["received"]
    _path, _auth, body = fleet["received"][0]
    assert body["title"] == "evacuate run failed: 1 of 3 hosts"
    assert "fleet-b → new-fleet-b (wave first): failed at after_run" in str(body["message"])


def test_the_rerun_skips_the_done_host_and_moves_the_rest(lab: Lab, fleet: Fleet) -> None:
    again = fleet["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    hosts = _hosts(again)
    assert {h: r["status"] for h, r in hosts.items()} == {
        "fleet-a": "ok", "fleet-b": "ok", "fleet-c": "ok"}
    assert hosts["fleet-a"]["done_before"] and hosts["fleet-a"]["bytes"] == 0
    # the killed run ended fleet-b's after_run; this one found it done
    assert hosts["fleet-b"]["done_before"] and not hosts["fleet-c"]["done_before"]
    for name, target in zip(NAMES, FLEET_TARGETS, strict=True):
        assert _on(lab, target, f"cat {DATA}") == f"data of {name}\n"
        assert _on(lab, target, "sha256sum /srv/app/blob.bin").split()[0] == \
            _on(lab, FLEET_SOURCES[NAMES.index(name)], "sha256sum /srv/app/blob.bin").split()[0]


def test_the_killed_fleet_run_was_killed_inside_fleet_c(fleet: Fleet) -> None:
    steps = fleet["killed"]["journals"]["fleet-c"]["steps"]
    assert steps["files"]["status"] == "done", steps
    assert steps.get("verify", {}).get("status") != "done", steps


def test_each_host_resumed_from_its_own_journal(fleet: Fleet) -> None:
    """fleet-b's journal is the one its first run began, its steps never run again (its
    after_run hook was); fleet-c's is the killed run's, continued without redoing its
    snapshot and files."""
    folder, killed = fleet["folder"], fleet["killed"]
    b = _journal(folder, "fleet-b")
    assert b["started"] < fleet["rerun_began"]
    assert "after_run" not in b["steps"] or b["steps"]["after_run"]["status"] != "failed"
    for step in ("snapshot", "files", "verify"):
        assert b["steps"][step] == fleet["journals"]["fleet-b"]["steps"][step]
    c = _journal(folder, "fleet-c")
    assert c["started"] == killed["journals"]["fleet-c"]["started"]
    assert all(e["status"] == "done" for e in c["steps"].values()), c
    assert {"snapshot", "prepare", "files", "verify"} <= set(c["steps"])
    for step in ("snapshot", "files"):
        assert c["steps"][step] == killed["journals"]["fleet-c"]["steps"][step]
        assert c["steps"][step]["finished"] < killed["at"]
    assert c["steps"]["verify"]["finished"] > killed["at"]


def test_the_fleet_limit_charged_every_byte_of_both_hosts_of_the_wave(fleet: Fleet) -> None:
    """One bucket for the run: both hosts of the first wave charged on it, each at least
    the bytes its steps streamed; fleet-c, skipped, nothing."""
    document = json.loads(fleet["failed"].stdout)
    limit = document["fleet_limit"]
    assert limit["bytes_per_second"] == FLEET_LIMIT
    by_host = limit["by_host"]
    assert set(by_host) == {"fleet-a", "fleet-b"}, limit
    assert limit["charged_bytes"] == sum(by_host.values())
    hosts = _hosts(fleet["failed"])
    for name in ("fleet-a", "fleet-b"):
        assert by_host[name] >= hosts[name]["bytes"] > 3_000_000, (name, limit, hosts[name])


def test_the_plans_estimate_assumed_each_hosts_share_of_the_fleet_limit(fleet: Fleet) -> None:
    estimates = {}
    for name in NAMES:
        plan = json.loads((fleet["folder"] / "state" / "plans" / f"{name}-to-new-{name}" /
                           "plan.json").read_text())
        est = plan["estimate"]
        estimates[name] = (est["limit_assumed"], est["limit_bytes_per_second"],
                           est["fleet_concurrency"])
    assert estimates == {"fleet-a": ("fleet", FLEET_LIMIT // 2, 2),
                         "fleet-b": ("fleet", FLEET_LIMIT // 2, 2),
                         "fleet-c": ("fleet", FLEET_LIMIT, 1)}


@pytest.fixture(scope="module")
def cutovers(fleet: Fleet) -> dict[str, Any]:
    """After the fleet ended verified: a fleet cutover of the first wave's hosts with
    fleet-b's before_cutover hook failing, then again with it fixed."""
    folder = fleet["folder"]
    config = folder / "evacuate.yml"
    (folder / "nocut").touch()
    failing = evacuate(config, "run", "fleet-a", "fleet-b", "--cutover", "--json")
    (folder / "nocut").unlink()
    again = evacuate(config, "run", "fleet-a", "fleet-b", "--cutover", "--json")
    return {"failing": failing, "again": again,
            "journals": {n: _journal(folder, n) for n in NAMES}}


def test_a_fleet_cutover_cuts_over_each_host_and_a_failed_one_is_its_own(
        cutovers: dict[str, Any]) -> None:
    failing = cutovers["failing"]
    assert failing.returncode == 1, failing.stderr[-3000:]
    document = json.loads(failing.stdout)
    assert document["cut_over"] == ["fleet-a"], json.dumps(document["hosts"])
    hosts = _hosts(failing)
    assert (hosts["fleet-a"]["status"], hosts["fleet-a"]["step"]) == ("ok", "cutover")
    assert "cut over: downtime" in hosts["fleet-a"]["detail"], hosts["fleet-a"]
    assert (hosts["fleet-b"]["status"], hosts["fleet-b"]["step"],
            hosts["fleet-b"]["cut_over"]) == ("failed", "cutover", False)
    assert "before_cutover" in hosts["fleet-b"]["error"], hosts["fleet-b"]
    again = cutovers["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["cut_over"] == ["fleet-a", "fleet-b"]
    hosts = _hosts(again)
    assert "cut over before (its journal)" in hosts["fleet-a"]["detail"], hosts["fleet-a"]
    assert "cut over: downtime" in hosts["fleet-b"]["detail"], hosts["fleet-b"]
    journals = cutovers["journals"]
    for name in ("fleet-a", "fleet-b"):
        assert journals[name]["steps"]["cutover"]["status"] == "done", journals[name]
    assert "cutover" not in journals["fleet-c"]["steps"]  # not chosen: not cut over
