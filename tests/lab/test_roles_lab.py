"""The roles of playbooks/ on a real host: a blank lab-target rebuilt by plain
``ansible-playbook site.yml`` from hand-written host_vars and a payload made here (files.tar
built with tarfile, dumps taken on lab-source). Users, keys, sudoers, files with their owners,
services and databases with the source's row counts; a second run changes nothing.

This module runs its own lab (id evr, 10.231.5.0/24): the roles change lab-target for good,
so the session lab of conftest.py stays untouched for the other tests."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest
import yaml

from evacuate.lab.lab import Lab, default_lab
from tests.lab.conftest import running_lab

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
HOST_VARS = REPO / "tests" / "fixtures" / "roles" / "host_vars.yml"
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"

ROLES_LAB_ID = "evr"
ROLES_LAB_INDEX = 5

# openssl passwd -6 -salt evacuatetest test-pass
ALICE_HASH = ("$6$evacuatetest$1VIIlZK.wccStm62YdLuEOAVzk3xoXBzC/k6CJn1ydc7a/zRyEwFT3syEVmCbyjp"
              "koLXoQ0ELcLBU9Htx/TIu0")
MARIADB_USERS_SQL = ("CREATE USER IF NOT EXISTS 'blog'@'localhost' IDENTIFIED BY 'x';\n"
                     "GRANT ALL ON blog.* TO 'blog'@'localhost';\n")
PG_COUNTS = ("SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM products), "
             "(SELECT count(*) FROM orders)")
MARIADB_COUNTS = "SELECT (SELECT COUNT(*) FROM blog.posts), (SELECT COUNT(*) FROM blog.comments)"
SITE_HTML = "<!doctype html><title>evacuated</title><p>restored by the files role</p>\n"
NGINX_SITE = """server {
    listen 80 default_server;
    root /var/www/site;
    index index.html;
}
"""

RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                   r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.MULTILINE)


def ansible_tool(name: str) -> str:
    tool = VENV_BIN / name
    if tool.exists():
        return str(tool)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed ('make venv' installs it with ansible-core)")
    return found


# -- the lab -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def roles_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    # the fixture's host_vars are a plan made for a blank target: its lab-target has none of
    # the cloud image's accounts (the default lab's has; tests/lab/test_run_lab.py plans for it)
    full = default_lab(lab_id=ROLES_LAB_ID, index=ROLES_LAB_INDEX)
    spec = replace(full, hosts=(full.hosts[0], replace(full.hosts[1], accounts=())))
    with running_lab(ROLES_LAB_ID, ROLES_LAB_INDEX,
                     tmp_path_factory.mktemp("roles-lab-state"), spec) as it:
        yield it


def ssh(lab: Lab, host: str, command: str, *, stdout: int | IO[bytes] = subprocess.PIPE,
        timeout: float = 120) -> str:
    """Run ``command`` on a lab host (strict host keys); return its output, raise on failure."""
    proc = subprocess.run(["ssh", "-F", str(lab.ssh_config), host, command], stdout=stdout,
                          stderr=subprocess.PIPE, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{host}: {command!r} failed: {proc.stderr.decode()[-2000:]}"
    return proc.stdout.decode() if isinstance(proc.stdout, bytes) else ""


# -- the payload ---------------------------------------------------------------------------
def _add(tar: tarfile.TarFile, name: str, *, data: bytes | None = None, mode: int,
         user: str, group: str, uid: int = 4000, gid: int = 4000) -> None:
    """Add a file (data given) or directory; the numeric ids are wrong on purpose: the
    target must use the names."""
    info = tarfile.TarInfo(name)
    info.mode, info.uname, info.gname, info.uid, info.gid = mode, user, group, uid, gid
    info.mtime = int(time.time()) - 3600
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def make_files_tar(path: Path) -> None:
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        _add(tar, "etc/cron.d/evacuate-test", mode=0o644, user="root", group="root",
             data=b"SHELL=/bin/sh\n15 4 * * * root /bin/true\n")
        _add(tar, "etc/nginx/sites-available/default", mode=0o644, user="root", group="root",
             data=NGINX_SITE.encode())
        _add(tar, "var/www/site", mode=0o755, user="www-data", group="www-data")
        _add(tar, "var/www/site/index.html", mode=0o644, user="www-data", group="www-data",
             data=SITE_HTML.encode())
        _add(tar, "home/alice/notes.txt", mode=0o640, user="alice", group="webdev",
             data="Notizen über den Umzug\n".encode())
        # wrong group and mode on purpose: the cron role puts them right
        _add(tar, "var/spool/cron/crontabs/alice", mode=0o644, user="alice", group="root",
             data=b"*/30 * * * * /bin/true\n")


@pytest.fixture(scope="module")
def payload(roles_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """files.tar and the dumps of lab-source (as `evacuate export` would leave them)."""
    out = tmp_path_factory.mktemp("payload")
    make_files_tar(out / "files.tar")
    dumps = {
        "postgresql-shop.dump": "cd / && runuser -u postgres -- pg_dump -Fc shop",
        "postgresql-globals.sql": "cd / && runuser -u postgres -- pg_dumpall --globals-only",
        "mariadb-blog.sql": "mariadb-dump --single-transaction --databases blog",
    }
    for name, command in dumps.items():
        with (out / name).open("wb") as handle:
            ssh(roles_lab, "lab-source", command, stdout=handle)
        assert (out / name).stat().st_size > 0, name
    (out / "mariadb-users.sql").write_text(MARIADB_USERS_SQL)
    for item in out.iterdir():
        item.chmod(0o600)
    return out


@pytest.fixture(scope="module")
def source_counts(roles_lab: Lab) -> dict[str, str]:
    return {
        "shop": ssh(roles_lab, "lab-source",
                    f'cd / && runuser -u postgres -- psql -XAt -d shop -c "{PG_COUNTS}"').strip(),
        "blog": ssh(roles_lab, "lab-source", f'mariadb -N -B -e "{MARIADB_COUNTS}"').strip(),
    }


# -- the project -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project(roles_lab: Lab, payload: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inventory, secrets (a plain vars file standing in for the vault) and an ANSIBLE_HOME."""
    root = tmp_path_factory.mktemp("project")
    ssh_args = (f"-o UserKnownHostsFile={roles_lab.known_hosts} -o StrictHostKeyChecking=yes "
                "-o IdentitiesOnly=yes -o ControlMaster=auto -o ControlPersist=60s")
    inventory = {"targets": {"hosts": {"lab-target": {
        "ansible_host": roles_lab.address("lab-target"),
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(roles_lab.key),
        "ansible_ssh_common_args": ssh_args,
        "ansible_python_interpreter": "/usr/bin/python3",
    }}}}
    (root / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (root / "vault.yml").write_text(yaml.safe_dump({"evacuate_password_hashes": {"alice": ALICE_HASH}}))
    (root / "vault.yml").chmod(0o600)
    (root / "home").mkdir()
    return root


def run_playbook(project: Path, payload: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANSIBLE_HOME=str(project / "home"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PIPELINING="1",
               ANSIBLE_LOCAL_TEMP=str(project / "home" / "tmp"), ANSIBLE_STDOUT_CALLBACK="default")
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [ansible_tool("ansible-playbook"), "-i", str(project / "hosts.yml"),
           "-e", f"@{HOST_VARS}", "-e", f"@{project / 'vault.yml'}",
           "-e", f"evacuate_payload_dir={payload}", str(PLAYBOOKS / "site.yml"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=project, timeout=600,
                          check=False)


def recap(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    match = RECAP.search(proc.stdout)
    assert match, f"no PLAY RECAP in:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    return {key: int(value) for key, value in match.groupdict().items() if key != "host"}


def changed_tasks(output: str) -> list[str]:
    """The names of the tasks that reported a change (for a readable failure)."""
    names, current = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            current = line
        elif line.startswith("changed:"):
            names.append(f"{current} {line}")
    return names


@pytest.fixture(scope="module")
def first_run(roles_lab: Lab, project: Path, payload: Path,
              source_counts: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = run_playbook(project, payload)
    assert proc.returncode == 0, f"ansible-playbook failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    return proc


# -- the tests -------------------------------------------------------------------------------
def test_first_run_rebuilds_the_target(first_run: subprocess.CompletedProcess[str]) -> None:
    counts = recap(first_run)
    assert counts["failed"] == 0 and counts["unreachable"] == 0
    assert counts["changed"] > 0


def test_users_groups_keys_and_sudoers(roles_lab: Lab, first_run: object) -> None:
    t = "lab-target"
    alice = ssh(roles_lab, t, "getent passwd alice").strip().split(":")
    assert alice[2:] == ["1001", "1001", "Alice Admin", "/home/alice", "/bin/bash"]
    assert ssh(roles_lab, t, "getent group alice").split(":")[2] == "1001"
    assert ssh(roles_lab, t, "getent passwd bob").split(":")[2] == "1002"
    assert ssh(roles_lab, t, "getent group webdev").split(":")[2] == "1500"
    assert set(ssh(roles_lab, t, "id -nG alice").split()) == {"alice", "sudo", "webdev"}
    assert set(ssh(roles_lab, t, "id -nG bob").split()) == {"bob", "webdev", "deploy"}
    # wanted ids that were taken on the target: the system picked others
    assert ssh(roles_lab, t, "getent group deploy").split(":")[2] != "999"
    notes = ssh(roles_lab, t, "getent passwd notes").strip().split(":")
    assert notes[2] == "999" and notes[5:] == ["/srv/notes", "/usr/sbin/nologin"]
    notes_gid = ssh(roles_lab, t, "getent group notes").split(":")[2]
    assert notes_gid == notes[3] and int(notes_gid) < 1000
    assert ssh(roles_lab, t, "test ! -e /srv/notes && echo absent").strip() == "absent"
    assert ssh(roles_lab, t, "getent shadow alice").split(":")[1] == ALICE_HASH

    fixture = yaml.safe_load(HOST_VARS.read_text())
    for user in ("alice", "bob"):
        keys = next(u["authorized_keys"] for u in fixture["evacuate_users"] if u["name"] == user)
        assert ssh(roles_lab, t, f"cat /home/{user}/.ssh/authorized_keys") == "\n".join(keys) + "\n"
        modes = ssh(roles_lab, t, f"stat -c '%a %U %G' /home/{user}/.ssh "
                                  f"/home/{user}/.ssh/authorized_keys").split("\n")
        assert modes[:2] == [f"700 {user} {user}", f"600 {user} {user}"]

    assert ssh(roles_lab, t, "stat -c '%a %U %G' /etc/sudoers.d/alice-nginx").strip() == "440 root root"
    assert "NOPASSWD: /usr/bin/systemctl restart nginx" in ssh(roles_lab, t, "sudo -l -U alice")


def test_files_are_restored_with_owners_by_name(roles_lab: Lab, first_run: object) -> None:
    t = "lab-target"
    listing = ssh(roles_lab, t, "stat -c '%n %a %U %G' /var/www/site /var/www/site/index.html "
                                "/home/alice/notes.txt /etc/cron.d/evacuate-test "
                                "/var/spool/cron/crontabs/alice")
    assert listing.splitlines() == [
        "/var/www/site 755 www-data www-data",
        "/var/www/site/index.html 644 www-data www-data",
        "/home/alice/notes.txt 640 alice webdev",
        "/etc/cron.d/evacuate-test 644 root root",
        "/var/spool/cron/crontabs/alice 600 alice crontab",  # put right by the cron role
    ]
    assert ssh(roles_lab, t, "cat /home/alice/notes.txt") == "Notizen über den Umzug\n"
    assert ssh(roles_lab, t, "cat /etc/timezone").strip() == "Europe/Berlin"
    assert ssh(roles_lab, t, "readlink /etc/localtime").strip() == "/usr/share/zoneinfo/Europe/Berlin"


def test_services_run_with_the_restored_configuration(roles_lab: Lab, first_run: object) -> None:
    t = "lab-target"
    units = ["nginx", "postgresql@15-main", "mariadb", "cron"]
    assert ssh(roles_lab, t, "systemctl is-active " + " ".join(units)).split() == ["active"] * 4
    assert ssh(roles_lab, t, "systemctl is-enabled nginx mariadb cron").split() == ["enabled"] * 3
    # nginx was restarted after the files step: it serves the restored site
    with urllib.request.urlopen(f"http://{roles_lab.address(t)}/", timeout=10) as response:
        assert response.read().decode() == SITE_HTML
    assert "restart-pending" not in ssh(roles_lab, t, "ls /var/lib/evacuate").split()
    leftovers = ssh(roles_lab, t, "find /tmp -maxdepth 1 -name 'ansible.*' -type f")
    assert leftovers.strip() == "", f"temporary dump files left behind: {leftovers}"


def test_databases_have_the_sources_rows(roles_lab: Lab, first_run: object,
                                         source_counts: dict[str, str]) -> None:
    t = "lab-target"
    shop = ssh(roles_lab, t, f'cd / && runuser -u postgres -- psql -XAt -d shop -c "{PG_COUNTS}"')
    assert shop.strip() == source_counts["shop"] == "2000|500|5000"
    owner = ssh(roles_lab, t, "cd / && runuser -u postgres -- psql -XAt -d shop -c "
                              "\"SELECT tableowner FROM pg_tables WHERE schemaname = 'public'\"")
    assert set(owner.split()) == {"shop"}
    encoding = ssh(roles_lab, t, "cd / && runuser -u postgres -- psql -XAt -c \"SELECT "
                                 "pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'shop'\"")
    assert encoding.strip() == "UTF8"
    blog = ssh(roles_lab, t, f'mariadb -N -B -e "{MARIADB_COUNTS}"')
    assert blog.strip() == source_counts["blog"] == "1000\t3000"
    grants = ssh(roles_lab, t, "mariadb -N -B -e \"SHOW GRANTS FOR 'blog'@'localhost'\"")
    assert "ON `blog`.*" in grants


def test_second_run_changes_nothing(project: Path, payload: Path,
                                    first_run: subprocess.CompletedProcess[str]) -> None:
    proc = run_playbook(project, payload)
    assert proc.returncode == 0, f"second run failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    counts = recap(proc)
    assert counts["changed"] == 0, "changed on the second run:\n" + "\n".join(changed_tasks(proc.stdout))


def test_restores_never_go_over_data(roles_lab: Lab, project: Path, payload: Path,
                                     first_run: object, source_counts: dict[str, str]) -> None:
    """Without their markers the database roles find tables and leave the data alone."""
    t = "lab-target"
    ssh(roles_lab, t, "rm /var/lib/evacuate/postgresql-db-* /var/lib/evacuate/mysql-db-*")
    proc = run_playbook(project, payload, "--tags", "postgresql,mysql")
    assert proc.returncode == 0, f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert recap(proc)["changed"] == 0, "\n".join(changed_tasks(proc.stdout))
    assert ssh(roles_lab, t, f'cd / && runuser -u postgres -- psql -XAt -d shop -c "{PG_COUNTS}"'
               ).strip() == source_counts["shop"]
    assert ssh(roles_lab, t, f'mariadb -N -B -e "{MARIADB_COUNTS}"').strip() == source_counts["blog"]


def test_fast_path_needs_no_payload(project: Path, first_run: object, tmp_path: Path) -> None:
    """`evacuate run` streams the data itself: the data step then touches no payload."""
    proc = run_playbook(project, tmp_path, "--tags", "data", "-e", "evacuate_restore_files=false",
                        "-e", "evacuate_restore_databases=false")
    assert proc.returncode == 0, f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert recap(proc)["changed"] == 0


def test_step_tags_cover_every_role() -> None:
    proc = subprocess.run([ansible_tool("ansible-playbook"), "--list-tasks", "-i", "localhost,",
                           str(PLAYBOOKS / "site.yml")], capture_output=True, text=True,
                          timeout=120, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stderr
    steps = {"base": "prepare", "packages": "prepare", "users": "prepare", "files": "data",
             "postgresql": "data", "mysql": "data", "redis": "data",
             "sqlite": "data", "cron": "activate", "firewall": "activate",
             "services": "activate"}
    seen = set()
    for match in re.finditer(r"^\s+(\w+) : .*TAGS: \[([^\]]*)\]", proc.stdout, re.MULTILINE):
        role, tags = match.group(1), {t.strip() for t in match.group(2).split(",")}
        assert {role, steps[role]} <= tags, (role, tags)
        seen.add(role)
    assert seen == set(steps)


def test_ansible_lint_passes() -> None:
    lint = VENV_BIN / "ansible-lint"
    if not lint.exists() and shutil.which("ansible-lint") is None:
        pytest.fail("ansible-lint is not installed ('make venv' installs the dev dependencies)")
    # data.yml's modules: the evacuate.migrate collection (a project has it next to its
    # playbooks; the checkout under collections/)
    proc = subprocess.run([str(lint) if lint.exists() else "ansible-lint", "--nocolor", "."],
                          cwd=PLAYBOOKS, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections")})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    assert "Profile 'production' was required, and it passed" in output or \
        "validation criteria was 'production'" in output, output[-2000:]
