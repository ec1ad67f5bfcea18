"""P1: `evacuate inventory` vs Ansible's setup + package_facts + service_facts on the same host.

Ansible runs as an expert would set it up, and as evacuate's own generated ansible.cfg does:
pipelining on, SSH multiplexing with ControlPersist (the master connection outlives each
run, so every round after the warm-up skips the SSH handshake)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate, run
from evacuate.lab.lab import Lab

ANSIBLE_CFG = """\
[defaults]
host_key_checking = True
retry_files_enabled = False
interpreter_python = /usr/bin/python3

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o BatchMode=yes
control_path_dir = {control}
"""

PLAYBOOK = """\
- hosts: all
  gather_facts: true
  tasks:
    - ansible.builtin.package_facts:
    - ansible.builtin.service_facts:
"""


def measure(lab: Lab, rounds: int, host: str = "lab-source", key: str = "P1") -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p1-"))
    address = lab.address(host)
    (work / "facts.yml").write_text(PLAYBOOK)
    (work / "cp").mkdir(mode=0o700)
    (work / "ansible.cfg").write_text(ANSIBLE_CFG.format(control=work / "cp"))
    (work / "hosts.ini").write_text(
        f"{host} ansible_host={address} ansible_user=root "
        f"ansible_python_interpreter=/usr/bin/python3 ansible_ssh_private_key_file={lab.key} "
        f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts} "
        f"-o StrictHostKeyChecking=yes'\n")
    bindir = Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{bindir}:{os.environ.get('PATH', '')}")
    ansible = [str(bindir / "ansible-playbook"), "-i", str(work / "hosts.ini"),
               str(work / "facts.yml")]
    evacuate = [str(bindir / "evacuate"), "inventory", f"root@{address}", "--json",
                "--known-hosts", str(lab.known_hosts), "-i", str(lab.key),
                "--state-dir", str(work / "state")]
    figure = Figure(key, f"inventory of {host} (wall time, whole command)",
                    "evacuate inventory HOST",
                    "ansible-playbook: setup + package_facts + service_facts "
                    "(pipelining, ControlPersist=60s)", goal=0.33,
                    note="evacuate also collects DBs, vhosts, certs, users, cron, "
                         "conffiles, unowned files; Ansible does not")
    # the persisted master connection exits by itself 60 s after the last run
    return alternate(figure, lambda: run(evacuate, env), lambda: run(ansible, env), rounds)
