"""P1: `evacuate inventory` vs Ansible's setup + package_facts + service_facts on the same host."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate, run
from evacuate.lab.lab import Lab

PLAYBOOK = """\
- hosts: all
  gather_facts: true
  tasks:
    - ansible.builtin.package_facts:
    - ansible.builtin.service_facts:
"""


def measure(lab: Lab, rounds: int) -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p1-"))
    address = lab.address("lab-source")
    (work / "facts.yml").write_text(PLAYBOOK)
    (work / "hosts.ini").write_text(
        f"lab-source ansible_host={address} ansible_user=root "
        f"ansible_python_interpreter=/usr/bin/python3 ansible_ssh_private_key_file={lab.key} "
        f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts} "
        f"-o StrictHostKeyChecking=yes'\n")
    bindir = Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="True", ANSIBLE_NOCOLOR="1",
               PATH=f"{bindir}:{os.environ.get('PATH', '')}")
    ansible = [str(bindir / "ansible-playbook"), "-i", str(work / "hosts.ini"),
               str(work / "facts.yml")]
    evacuate = [str(bindir / "evacuate"), "inventory", f"root@{address}", "--json",
                "--known-hosts", str(lab.known_hosts), "-i", str(lab.key),
                "--state-dir", str(work / "state")]
    figure = Figure("P1", "inventory of lab-source (wall time, whole command)",
                    "evacuate inventory HOST",
                    "ansible-playbook: setup + package_facts + service_facts", goal=0.33,
                    note="evacuate also collects DBs, vhosts, certs, users, cron, "
                         "conffiles, unowned files; Ansible does not")
    return alternate(figure, lambda: run(evacuate, env), lambda: run(ansible, env), rounds)
