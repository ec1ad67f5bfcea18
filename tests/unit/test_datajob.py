"""The data steps as an Ansible job (issue 16, item 2): the rendered project carries the
evacuate.migrate collection, data.yml and the plan; the modules are thin wrappers of
evacuate.rebuild.datajob.run_step (run here by real Ansible: the module's secrets never
appear in its output); the job's store variables and secrets; the job staged with them
encrypted. The data steps running on a node end to end: tests/lab/test_execution_node_lab.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evacuate.ansible import node as nodes
from evacuate.ansible.vault import encrypt
from evacuate.config import load_config
from evacuate.plan.persist import plan_from_json
from evacuate.plan.render import COLLECTION_DIR, render_project
from evacuate.rebuild import datajob
from evacuate.rebuild.datajob import StoreAccess
from evacuate.state import StateDir
from tests.unit.plan.test_render import saved_plan

BIN = Path(sys.executable).parent
STEP_UTILS = (Path(__file__).parents[2] / "collections" / "ansible_collections" / "evacuate" /
              "migrate" / "plugins" / "module_utils" / "evacuate_step.py")


def test_the_project_carries_the_collection_the_data_playbook_and_the_plan(
        tmp_path: Path) -> None:
    plan = saved_plan()
    project = render_project(plan, tmp_path / "project", vault_document="vault\n")
    modules = project / COLLECTION_DIR / "plugins" / "modules"
    assert sorted(p.name for p in modules.iterdir()) == [
        "restore_containers.py", "restore_databases.py", "restore_files.py"]
    assert (project / COLLECTION_DIR / "galaxy.yml").is_file()
    assert plan_from_json(json.loads((project / "plan.json").read_text())) == plan
    assert (project / "plan.json").stat().st_mode & 0o077 == 0
    # real ansible-playbook resolves the modules' names from the project's collections/
    checked = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "data.yml",
                              "-i", "inventory/hosts.yml"], cwd=project, capture_output=True,
                             text=True, env={**os.environ, "ANSIBLE_CONFIG": "ansible.cfg"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = subprocess.run([str(BIN / "ansible-playbook"), "--list-tasks", "data.yml",
                             "-i", "inventory/hosts.yml", "--tags", "databases"], cwd=project,
                            capture_output=True, text=True)
    assert "Restore the databases of the snapshot" in listed.stdout, listed.stdout
    assert "Restore the files" not in listed.stdout
    listed = subprocess.run([str(BIN / "ansible-playbook"), "--list-tasks", "data.yml",
                             "-i", "inventory/hosts.yml", "--tags", "containers"], cwd=project,
                            capture_output=True, text=True)
    assert "Bring up the containers of the snapshot" in listed.stdout, listed.stdout
    assert "Restore the databases" not in listed.stdout


def test_the_module_s_secret_arguments_are_no_log() -> None:
    text = STEP_UTILS.read_text()
    namespace: dict[str, object] = {}
    exec(compile(text, str(STEP_UTILS), "exec"), namespace)
    spec = namespace["ARGUMENT_SPEC"]
    assert isinstance(spec, dict)
    secret = {name for name, option in spec.items() if option.get("no_log")}
    assert secret == {"store_key", "s3_access_key_id", "s3_secret_access_key",
                      "s3_session_token"}


def test_the_module_runs_evacuate_s_step_and_hides_its_secrets(tmp_path: Path) -> None:
    """Real Ansible runs the project's module (delegated here, as data.yml does); a plan
    that is not there is one line naming it, and the key given never shows."""
    project = render_project(saved_plan(), tmp_path / "project", vault_document="vault\n")
    (project / "plan.json").unlink()
    secret = "c2VjcmV0LXN0b3JlLWtleS1vZi0zMi1ieXRlcy0xMjM0NQ=="
    playbook = tmp_path / "one.yml"  # beside the project: its vault is no business here
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "evacuate.migrate.restore_files": {
            "plan": str(project / "plan.json"), "store": str(tmp_path / "store"),
            "store_key": secret, "target_host": "192.0.2.1"},
        "vars": {"ansible_python_interpreter": sys.executable}}]}]))
    done = subprocess.run([str(BIN / "ansible-playbook"), "-vvv", "one.yml", "-i", "localhost,",
                           "-c", "local"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ,
                               "ANSIBLE_COLLECTIONS_PATH": str(project / "collections")})
    assert done.returncode != 0
    assert f"cannot read the plan {project / 'plan.json'}" in done.stdout, done.stdout
    assert secret not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout


def _s3_config(tmp_path: Path) -> Path:
    key = tmp_path / "store.key"
    key.write_bytes(bytes(range(32)))
    key.chmod(0o600)
    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\nstore:\n  url: s3://bucket/evac\n"
                      f"  endpoint_url: http://192.0.2.9:8333\n  key_file: {key}\n")
    return config


def test_an_s3_store_is_what_a_node_gets_with_its_key_and_this_environment_s_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    config = load_config(_s3_config(tmp_path))
    access = datajob.store_access(config, StateDir(tmp_path / "state"), None)
    assert access is not None and access.url == "s3://bucket/evac"
    assert "SECRET" not in repr(access)
    assert datajob.job_vars(access, "snap-1") == {
        "evacuate_store_url": "s3://bucket/evac",
        "evacuate_store_endpoint_url": "http://192.0.2.9:8333", "evacuate_store_region": None,
        "evacuate_snapshot_id": "snap-1", "evacuate_interrupted_database": None}
    secrets = datajob.vault_vars(access)
    assert secrets == {"evacuate_store_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                       "evacuate_s3_access_key_id": "AKID",
                       "evacuate_s3_secret_access_key": "SECRET"}


def test_a_local_store_keeps_the_data_steps_on_the_controller(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    assert datajob.store_access(None, state, None) is None
    assert datajob.store_access(None, state, str(tmp_path / "store")) is None


def test_the_job_s_secrets_are_staged_encrypted_and_its_known_hosts_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVACUATE_TEST_KEY", "00" * 32)
    project = tmp_path / "project"
    (project / "inventory").mkdir(parents=True)
    (project / "inventory" / "hosts.yml").write_text("all: {}\n")
    staging = tmp_path / "staging"
    staging.mkdir()
    document = encrypt(json.dumps(datajob.vault_vars(StoreAccess(
        "s3://b/p", key_env="EVACUATE_TEST_KEY"))), b"pw")
    nodes.stage(project, staging, known_hosts=None, vault_vars=document)
    staged = staging / "project" / nodes.VAULT_VARS
    assert staged.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    assert "evacuate_store_key" not in staged.read_text()
    assert staged.stat().st_mode & 0o077 == 0
    kwargs = nodes.job_kwargs("files-1", tags=("files",), extravars={"a": 1},
                              with_known_hosts=True, ssh_key=None, vault_password="pw",
                              playbook=datajob.PLAYBOOK)
    assert kwargs["playbook"] == "data.yml"
    assert kwargs["extravars"] == {"a": 1, "evacuate_known_hosts":
                                   "~/.evacuate-worker/files-1/known_hosts"}


def test_a_step_that_is_not_a_data_step_is_refused() -> None:
    with pytest.raises(datajob.UsageError, match="not a data step"):
        datajob.run_step("activate", {})


def test_the_data_steps_go_to_the_node_only_with_an_s3_store_and_not_when_kept_here(
        tmp_path: Path) -> None:
    from evacuate.actions.run import data_on_node
    from evacuate.ansible.node import ExecutionNode
    from evacuate.transport.spec import HostSpec

    node = ExecutionNode(HostSpec(user="root", host="192.0.2.5"))
    s3 = load_config(_s3_config(tmp_path))
    state = StateDir(tmp_path / "state")
    assert data_on_node(node, s3, state, None) is not None
    assert data_on_node(node, s3, state, None, data_here=True) is None  # --data-here
    assert data_on_node(None, s3, state, None) is None  # no node: all here
    assert data_on_node(node, None, state, None) is None  # the state's local store
    assert data_on_node(node, s3, state, str(tmp_path / "store")) is None  # --store DIR
    assert data_on_node(None, None, state, "s3://bucket/other") is None
    given = data_on_node(node, None, state, "s3://bucket/other")  # --store s3://...
    assert given is not None and given.url == "s3://bucket/other"
