"""The playbook process, and the artifacts ansible-runner writes, carry none of the
controller's secrets: a real ansible-playbook run on a local connection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from evacuate.ansible.runner import run_playbook

CANARY = "canary-env-4f1d9a7e"


def _project(root: Path) -> Path:
    project = root / "project"
    (project / "inventory").mkdir(parents=True)
    (project / "roles").mkdir()
    (project / "ansible.cfg").write_text("[defaults]\ninventory = inventory/hosts.yml\n")
    (project / "inventory" / "hosts.yml").write_text(
        "all:\n  hosts:\n    here:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n")
    (project / "site.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Write what the playbook sees of the secret variables\n"
        "      ansible.builtin.copy:\n"
        "        content: \"{{ lookup('ansible.builtin.env', 'AWS_SECRET_ACCESS_KEY') }}|"
        "{{ lookup('ansible.builtin.env', 'EVACUATE_BECOME_PASSWORD') }}\"\n"
        f"        dest: {root}/seen.txt\n        mode: '0600'\n")
    return project


def test_no_controller_secret_reaches_the_playbook_or_its_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("EVACUATE_BECOME_PASSWORD", CANARY + "-sudo")
    outcome = run_playbook(_project(tmp_path), tmp_path / "runner", ident="t1")
    assert outcome.failed == 0
    assert (tmp_path / "seen.txt").read_text() == "|"
    command = outcome.artifacts / "command"
    assert command.exists() and "PATH" in command.read_text()  # the file this test reads
    leaked = [str(p) for p in (tmp_path / "runner").rglob("*")
              if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert not leaked, f"the controller's secret reached {leaked}"


@pytest.mark.parametrize("key", ["PATH", "HOME", "LC_ALL", "ANSIBLE_CONFIG"])
def test_what_the_playbook_needs_is_kept(key):
    from evacuate.ansible.runner import scrub_environment

    env = {key: "x", "AWS_ACCESS_KEY_ID": "y", "S3_PASSWORD": "z"}
    scrub_environment(env)
    assert env == {key: "x"}
