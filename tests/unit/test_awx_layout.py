"""The fleet's AWX layout (evacuate.plan.awx): per host a project, an inventory sourced
from it and one job template per step (the playbooks, tags and variables ``evacuate run``
uses); per wave a workflow chaining each host's steps; no secret in it, and the store
credential type's injectors reach AWX as AWX's own templates (real Ansible renders the
playbook's values). Not tested against an AWX server: there is none in the test run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from evacuate.actions.fleet import AWX_LAYOUT, FleetContext, write_awx_layout
from evacuate.config import load_config
from evacuate.fleet.model import FleetHost, FleetResult, HostResult, HostStatus, Wave
from evacuate.plan.awx import AwxWave, awx_layout
from evacuate.plan.model import Step, StepKind
from evacuate.rebuild.datajob import StoreAccess
from evacuate.state import StateDir, write_json
from tests.unit.plan.test_render import saved_plan

BIN = Path(sys.executable).parent
STORE = StoreAccess("s3://bucket/evac", "http://192.0.2.9:8333", "us-east-1",
                    key_env="EVACUATE_TEST_NO_SUCH_KEY", credentials={"AWS_SECRET_ACCESS_KEY": "S"})


def _tasks(document: list[dict[str, Any]], module: str) -> list[dict[str, Any]]:
    return [t[f"awx.awx.{module}"] for t in document[0]["tasks"] if f"awx.awx.{module}" in t]


def test_each_step_is_a_job_template_and_each_wave_a_workflow() -> None:
    one = saved_plan()
    two = replace(one, name="other-to-fresh")
    document = awx_layout([AwxWave("first", (one, two)), AwxWave("second", (one,))], STORE)
    templates = {t["name"]: t for t in _tasks(document, "job_template")}
    prepare = templates[f"evacuate {one.name} prepare"]
    assert (prepare["playbook"], prepare["job_tags"]) == ("site.yml", "prepare")
    files = templates[f"evacuate {one.name} files"]
    assert (files["playbook"], files["job_tags"]) == ("data.yml", "files")
    assert files["extra_vars"] == {"evacuate_store_url": "s3://bucket/evac",
                                   "evacuate_store_endpoint_url": "http://192.0.2.9:8333",
                                   "evacuate_store_region": "us-east-1"}
    assert "evacuate store" in files["credentials"]
    assert templates[f"evacuate {one.name} activate"]["extra_vars"][
        "evacuate_services_restart"] is True
    assert {p["local_path"] for p in _tasks(document, "project")} == {one.name, two.name}
    workflows = {w["name"]: w for w in _tasks(document, "workflow_job_template")}
    nodes = {n["identifier"]: n for n in workflows["evacuate wave first"]["workflow_nodes"]}
    assert len(nodes) == 8  # two hosts side by side, four steps each
    chain, node = [], nodes[f"{one.name} prepare"]
    while True:
        chain.append(node["unified_job_template"]["name"].rsplit(" ", 1)[1])
        following = node.get("related", {}).get("success_nodes", [])
        if not following:
            break
        node = nodes[following[0]["identifier"]]
    assert chain == ["prepare", "files", "databases", "activate"]
    assert len(workflows["evacuate wave second"]["workflow_nodes"]) == 4
    assert '"S"' not in json.dumps(document)  # no credential's value


def test_the_store_s_secrets_reach_awx_as_its_own_templates(tmp_path: Path) -> None:
    """Ansible templates the playbook's values: the injectors must come out as the
    ``{{ store_key }}`` AWX fills in from the credential."""
    document = awx_layout([AwxWave("w", (saved_plan(),))], STORE)
    kind = _tasks(document, "credential_type")[0]
    playbook = tmp_path / "show.yml"
    out = tmp_path / "shown.json"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False,
                                         "vars": {"injectors": kind["injectors"]},
                                         "tasks": [{"ansible.builtin.copy": {
                                             "content": "{{ injectors | to_json }}",
                                             "dest": str(out), "mode": "0600"}}]}]))
    done = subprocess.run([str(BIN / "ansible-playbook"), str(playbook), "-i", "localhost,",
                           "-c", "local"], capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_PYTHON_INTERPRETER": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(out.read_text())
    assert shown == {"env": {"EVACUATE_STORE_KEY": "{{ store_key }}",
                             "AWS_ACCESS_KEY_ID": "{{ access_key_id }}",
                             "AWS_SECRET_ACCESS_KEY": "{{ secret_access_key }}"}}


def test_a_fleet_plan_with_an_s3_store_writes_the_layout_of_the_hosts_planned(
        tmp_path: Path) -> None:
    key = tmp_path / "store.key"
    key.write_bytes(bytes(32))
    key.chmod(0o600)
    config_path = tmp_path / "evacuate.yml"
    config_path.write_text(f"state_dir: {tmp_path / 'state'}\nstore:\n  url: s3://bucket/p\n"
                           f"  key_file: {key}\n")
    state = StateDir(tmp_path / "state")
    plan = saved_plan()
    write_json(state.root / "plans" / "doomed-to-fresh" / "plan.json",
               json.loads((Path(__file__).parents[1] / "fixtures" / "plan" /
                           "doomed.json").read_text()))
    waves = (Wave("w1", (FleetHost("doomed", "fresh", "w1"), FleetHost("gone", "fresh", "w1"))),)
    result = FleetResult("plan", ("w1",), (
        HostResult("doomed", "fresh", "w1", HostStatus.OK, "plan"),
        HostResult("gone", "fresh", "w1", HostStatus.FAILED, "plan")))
    fleet = FleetContext(load_config(config_path), state, None, None, None)  # type: ignore[arg-type]
    path = write_awx_layout(waves, fleet, result)
    assert path == state.root / "fleet" / AWX_LAYOUT
    document = yaml.safe_load(path.read_text())
    assert [t["name"] for t in _tasks(document, "project")] == [f"evacuate {plan.name}"]
    assert "AAAAAAAAAAAAAAAAAAAA" not in path.read_text()  # the (zero) key, base64
    local = FleetContext(None, state, None, None, None)  # type: ignore[arg-type]
    assert write_awx_layout(waves, local, result) is None  # a local store: no AWX layout


def test_a_container_host_s_containers_step_is_a_data_job_after_activate() -> None:
    plan = saved_plan()
    steps = list(plan.steps)
    last = next(i for i, s in enumerate(steps) if s.kind is StepKind.ACTIVATE)
    steps.insert(last + 1, Step("containers", "podman: load, up", StepKind.CONTAINERS))
    with_containers = replace(plan, steps=tuple(steps))
    document = awx_layout([AwxWave("w", (with_containers,))], STORE)
    templates = {t["name"]: t for t in _tasks(document, "job_template")}
    containers = templates[f"evacuate {plan.name} containers"]
    assert (containers["playbook"], containers["job_tags"]) == ("data.yml", "containers")
    assert "evacuate store" in containers["credentials"]
    (workflow,) = _tasks(document, "workflow_job_template")
    nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
    assert nodes[f"{plan.name} activate"]["related"]["success_nodes"] == [
        {"identifier": f"{plan.name} containers"}]
