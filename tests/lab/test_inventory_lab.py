"""Inventory against the real lab-source: every seeded element is found, the facts agree
with the host's own tools, no secret leaks, and the host is left untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evacuate.actions.inventory import DiffOptions, take_inventory
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.inventory import HostInventory, to_json
from evacuate.inventory.conffile_diffs import mirror_repository
from evacuate.lab.aptrepo import repo_port
from evacuate.lab.images import repo_path
from evacuate.lab.lab import Lab
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from tests.lab.canaries import source_canaries
from tests.lab.source_state import changes, file_system_state


@pytest.fixture(scope="module")
def source_inventory(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> HostInventory:
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
    outcome = take_inventory(ref, options, StateDir(tmp_path_factory.mktemp("inv-state")))
    assert outcome.error is None, outcome.error
    assert outcome.inventory is not None
    return outcome.inventory


def test_no_section_failed(source_inventory: HostInventory) -> None:
    assert source_inventory.errors == {}


def test_every_seeded_element_is_found(source_inventory: HostInventory) -> None:
    inv = source_inventory
    assert inv.os.id == "debian" and inv.os.codename == "bookworm"
    assert inv.os.hostname == "lab-source" and inv.os.timezone == "Europe/Berlin"

    vhosts = {name: v for v in inv.web for name in v.server_names}
    assert vhosts["www.example.test"].docroot == "/var/www/www.example.test"
    shop = vhosts["shop.example.test"]
    assert shop.tls_cert == "/etc/ssl/certs/shop.example.test.crt"
    assert any("127.0.0.1:8080" in target for target in shop.proxy_targets)
    cert = next(c for c in inv.certificates if c.path == "/etc/ssl/certs/shop.example.test.crt")
    assert {"DNS:shop.example.test", "DNS:www.shop.example.test"} <= set(cert.sans)

    engines = {d.engine: d for d in inv.databases}
    assert {db.name for db in engines["postgresql"].databases} >= {"shop"}
    assert {"shop", "reporting"} <= set(engines["postgresql"].roles)
    assert "blog" in {db.name for db in engines["mariadb"].databases}
    assert "'blog'@'localhost'" in engines["mariadb"].roles

    users = {u.name: u for u in inv.users}
    assert len(users["alice"].authorized_keys) == 2 and len(users["bob"].authorized_keys) == 1
    assert users["alice"].has_password and "sudo" in users["alice"].groups
    assert users["alice"].uid == 1001 and not users["alice"].system
    assert users["notes"].system
    assert any("alice" in s.path for s in inv.sudoers)

    cron = "\n".join(f"{c.path} {e.command}" for c in inv.crontabs for e in c.entries)
    assert "backup-db.sh" in cron and "sync-reports.sh" in cron and "notes-report" in cron

    services = {s.name: s for s in inv.services}
    notes = services["notes.service"]
    assert notes.locally_written and notes.enabled_state == "enabled"
    assert notes.active_state == "active"
    assert any("limits.conf" in d for d in services["nginx.service"].dropins)
    assert "notes-cleanup.timer" in {t.name for t in inv.timers}
    by_port = {(listener.port, listener.unit) for listener in inv.listeners}
    assert (8080, "notes.service") in by_port
    assert (5432, "postgresql@15-main.service") in by_port
    assert (80, "nginx.service") in by_port
    # the package that owns each listener's executable (dpkg -S, usrmerge both ways)
    owners = {(listener.port, listener.package) for listener in inv.listeners}
    assert {(80, "nginx"), (5432, "postgresql-15"), (22, "openssh-server")} <= owners

    changed = {c.path for c in inv.changed_conffiles}
    assert {"/etc/nginx/nginx.conf", "/etc/mysql/mariadb.conf.d/50-server.cnf",
            "/etc/sysctl.conf"} <= changed
    unowned = {f.path for f in inv.unowned_files.files}
    assert "/etc/systemd/system/notes.service" in unowned
    assert "/opt/notes/app.py" in unowned
    assert any(s.key == "vm.swappiness" and s.value == "10" for s in inv.sysctl)

    data = {d.path for d in inv.data_candidates}
    assert {"/srv", "/var/www", "/home/alice", "/opt/notes"} <= data or \
        {"/srv/data", "/var/www", "/home/alice", "/opt/notes"} <= data


def test_no_secret_reaches_the_inventory(lab: Lab, source_inventory: HostInventory) -> None:
    """The source's secrets as they are there (canaries.py: its database servers' password
    hashes, a token and a database URL's password in a config file, the shadow hash, private
    keys) are nowhere in its inventory."""
    text = json.dumps(to_json(source_inventory))
    with lab.open("lab-source") as source:
        canaries = source_canaries(source)
    for canary in canaries:
        assert canary not in text, canary


def _on_source(lab: Lab, command: str) -> str:
    with lab.open("lab-source") as source:
        return source.run(command, timeout=300, check=True).text


def test_packages_and_services_agree_with_dpkg_and_systemctl(
        lab: Lab, source_inventory: HostInventory) -> None:
    dpkg = set(_on_source(lab, "dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Version}\\n'"
                          " | awk -F'|' '$1 ~ /^.i/ {print $2\"=\"$3}'").split())
    assert {f"{p.name}={p.version}" for p in source_inventory.packages} == dpkg
    manual = set(_on_source(lab, "apt-mark showmanual").split())
    assert {p.name for p in source_inventory.packages if p.manual} == manual

    files = {}
    for line in _on_source(lab, "systemctl list-unit-files --type=service --no-legend "
                                "--no-pager").splitlines():
        name, state = line.split()[:2]
        files[name] = state
    inventoried = {s.name: s.enabled_state for s in source_inventory.services
                   if s.name.endswith(".service") and s.name in files}
    assert inventoried, "no service of list-unit-files in the inventory"
    assert inventoried == {name: files[name] for name in inventoried}
    active = set(_on_source(lab, "systemctl list-units --type=service --state=active "
                                 "--no-legend --plain --no-pager | awk '{print $1}'").split())
    assert {s.name for s in source_inventory.services if s.active_state == "active"
            and s.name.endswith(".service")} == active


def test_inventory_changes_nothing_on_the_source(lab: Lab, tmp_path: Path) -> None:
    """The whole file system of the source, by content, metadata and ctime, before and
    after an inventory; set aside only what source_state.SET_ASIDE names."""
    with lab.open("lab-source") as source:
        before = file_system_state(source)
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
    assert take_inventory(ref, options, StateDir(tmp_path)).error is None
    with lab.open("lab-source") as source:
        changed = "\n".join(changes(before, file_system_state(source)))
    assert changed == "", changed


def test_cli_refuses_a_changed_host_key_in_one_line(lab: Lab, tmp_path: Path) -> None:
    other = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    tampered = tmp_path / "known_hosts"
    tampered.write_text(f"{lab.address('lab-source')} {kind} {key}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "evacuate", "inventory", lab.ssh_spec("lab-source"),
         "--known-hosts", str(tampered), "-i", str(lab.key), "--state-dir", str(tmp_path / "s")],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "host key" in errors[0]


def test_cli_inventory_json_to_stdout(lab: Lab, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "evacuate", "inventory", lab.ssh_spec("lab-target"), "--json",
         "--known-hosts", str(lab.known_hosts), "-i", str(lab.key),
         "--state-dir", str(tmp_path / "s")],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["os"]["hostname"] == "lab-target"
    assert list((tmp_path / "s" / "inventories").glob("*/latest.json"))


def test_changed_conffiles_are_diffed_against_the_shipped_versions(lab: Lab,
                                                                    tmp_path: Path) -> None:
    """The seeded edits of nginx.conf and MariaDB's 50-server.cnf show as unified diffs: the
    shipped versions come from a mirror the controller downloads from (the lab's apt
    repository) and, for nginx-common, from the host's own apt cache once its .deb is there."""
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
    mirror = f"http://{lab.spec.network.gateway}:{repo_port(lab.spec.index)}/bookworm"
    fetched = take_inventory(ref, options, StateDir(tmp_path / "a"), diffs=DiffOptions(
        mirrors=(mirror_repository(f"{mirror} ./"),)))
    assert fetched.inventory is not None, fetched.error
    changed = {c.path: c for c in fetched.inventory.changed_conffiles}
    nginx = changed["/etc/nginx/nginx.conf"]
    assert nginx.diff is not None and nginx.diff_note.startswith(f"shipped version from {mirror}/")
    assert "\n-\t# server_tokens off;\n+\tserver_tokens off;\n" in nginx.diff
    assert nginx.diff.startswith("--- /etc/nginx/nginx.conf (shipped)\n")
    server = changed["/etc/mysql/mariadb.conf.d/50-server.cnf"]
    assert server.diff is not None and "\n+max_connections         = 200\n" in server.diff

    deb = next(repo_path("bookworm").glob("nginx-common_*_all.deb"))
    cached = f"/var/cache/apt/archives/{deb.name}"
    with lab.open("lab-source") as source:
        source.put(deb, cached)
        try:
            local = take_inventory(ref, options, StateDir(tmp_path / "b"))
        finally:
            source.run(["rm", "-f", cached], check=True)
    assert local.inventory is not None, local.error
    nginx = next(c for c in local.inventory.changed_conffiles if c.path == nginx.path)
    assert nginx.diff_note == f"shipped version from the host's apt cache ({deb.name})"
    assert "\n+\tserver_tokens off;\n" in (nginx.diff or "")
    server = next(c for c in local.inventory.changed_conffiles if c.path == server.path)
    assert server.diff is None and "--fetch-defaults" in server.diff_note
