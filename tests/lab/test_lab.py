"""The lab itself: hosts healthy, reachable with strict host keys, seeded as the issue says,
and removed without a trace."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from evacuate.errors import HostKeyError
from evacuate.lab import hosts, network
from evacuate.lab.lab import Lab, LabSpec, default_lab
from evacuate.state import StateDir
from evacuate.transport import ConnectOptions, open_transport


def openssh(lab: Lab, host: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-i", str(lab.key), "-o", f"UserKnownHostsFile={lab.known_hosts}",
         "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         f"root@{lab.address(host)}", *command],
        capture_output=True, text=True, timeout=60, check=False)


def test_openssh_with_the_lab_known_hosts_sees_the_services_active(lab: Lab) -> None:
    proc = openssh(lab, "lab-source", "systemctl", "is-active", "nginx", "postgresql", "mariadb",
                   "notes")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["active"] * 4


def test_status_reports_both_hosts_healthy(lab: Lab) -> None:
    statuses = {s.name: s for s in lab.status()}
    assert set(statuses) == {"lab-source", "lab-target"}
    assert all(s.healthy for s in statuses.values()), statuses
    assert statuses["lab-source"].services["notes"] == "active"


def test_a_tampered_known_hosts_entry_is_refused(lab: Lab, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    tampered = tmp_path / "known_hosts"
    tampered.write_text(f"{lab.address('lab-source')} {kind} {key}\n")
    transport = open_transport(lab.ssh_spec("lab-source"),
                               ConnectOptions(known_hosts=tampered, identity=lab.key))
    with pytest.raises(HostKeyError) as refused:
        transport.run("true")
    message = str(refused.value)
    assert "\n" not in message
    assert lab.address("lab-source") in message
    transport.close()


def test_source_is_seeded_like_a_real_server(lab: Lab) -> None:
    with lab.open("lab-source") as source:
        def out(command: str) -> str:
            return source.run(command, timeout=60, check=True).text

        assert out("runuser -u postgres -- psql -XAt -d shop -c 'select count(*) from orders'"
                   ).strip() == "5000"
        assert out("runuser -u postgres -- psql -XAt -c "
                   "\"select rolname from pg_roles where rolname='shop'\"").strip() == "shop"
        assert out("mariadb -N -B -e 'select count(*) from blog.comments'").strip() == "3000"
        assert "blog" in out("mariadb -N -B -e \"select user from mysql.user\"")
        assert "server_tokens off;" in out("grep -v '^\\s*#' /etc/nginx/nginx.conf")
        conffile_check = out("cd / && dpkg-query -W -f='${Conffiles}\\n' nginx-common mariadb-common"
                             " mariadb-server-core mariadb-server | awk 'NF>=2 {print $2\"  \"$1}'"
                             " | md5sum -c 2>/dev/null | grep -c FAILED || true")
        assert int(conffile_check.strip()) >= 2  # nginx.conf and 50-server.cnf changed
        assert out("getent passwd alice bob | cut -d: -f1,3,7").split() == [
            "alice:1001:/bin/bash", "bob:1002:/bin/bash"]
        assert len(out("cat /home/alice/.ssh/authorized_keys").splitlines()) == 2
        assert "sudo" in out("id -nG alice")
        assert "backup-db.sh" in out("crontab -l -u root")
        assert "sync-reports.sh" in out("crontab -l -u alice")
        assert out("systemctl is-enabled notes-cleanup.timer").strip() == "enabled"
        assert "8080" in out("ss -Htln")
        listing = out("cd /srv/data && find . -printf '%p|%y|%u|%m|%n\\n' | sort")
        assert "./café/naïve résumé.txt|f|root|644|1" in listing
        assert "./Reports 2024/Q1 summary.txt|f|root|644|1" in listing
        assert "./current|l|root|777|1" in listing
        assert "./public/a.txt|f|root|644|2" in listing  # hardlinked
        assert "./uploads|d|www-data|2775|2" in listing
        assert "./orphan.dat|f|4242|640|1" in listing
        allocated, apparent = out("du -k /srv/data/sparse.img; du -k --apparent-size "
                                  "/srv/data/sparse.img").split()[::2]
        assert int(allocated) < int(apparent) // 10  # sparse


def test_vhosts_answer_by_host_header_from_the_controller(lab: Lab) -> None:
    request = urllib.request.Request(f"http://{lab.address('lab-source')}/",
                                     headers={"Host": "www.example.test"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert "<title>Example Test" in answer.read().decode()
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"{lab.address('lab-source')}:443",
         "-servername", "shop.example.test"], input="", capture_output=True, text=True,
        timeout=20, check=False)
    assert "CN = shop.example.test" in proc.stdout


def test_target_is_blank_and_installs_from_the_lab_repository(lab: Lab) -> None:
    """A reset lab-target is blank (the session's lab is shared: an earlier module may have
    evacuated onto it) and installs from the lab's repository."""
    lab.reset("lab-target")
    with lab.open("lab-target") as target:
        assert target.run("command -v nginx").exit_status != 0
        target.run("apt-get update -q", timeout=120, check=True)
        listed = target.run("apt-cache policy postgresql mariadb-server nginx", check=True).text
        assert "Candidate: (none)" not in listed
        assert target.run("getent passwd alice").exit_status != 0


def test_down_removes_every_trace_also_after_a_hard_kill(tmp_path: Path) -> None:
    from tests.lab.conftest import require_lab_privileges

    require_lab_privileges()
    full = default_lab(lab_id="evd", index=2)
    spec = LabSpec(lab_id="evd", index=2, hosts=(full.hosts[1],))  # just a blank target
    throwaway = Lab(spec, StateDir(tmp_path / "state"))
    try:
        [status] = throwaway.up(timeout=120)
        assert status.healthy
        layout = throwaway.layout(spec.hosts[0])
        pid = hosts.nspawn_pid(layout)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # the container's systemd survives this
    finally:
        removed = throwaway.down()
    assert removed == ["target"]
    assert not network.lab_namespaces("evd")
    assert subprocess.run(["ip", "link", "show", "evd-br"], capture_output=True).returncode != 0
    assert "evd" not in Path("/proc/self/mounts").read_text()
    assert not layout.base.exists()
    assert all(not group.exists() for group in layout.cgroups())
    leftovers = subprocess.run(["pgrep", "-f", "evd-target"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
