"""The exported project restores what `evacuate run` restores: lab-source gets redis
(password protected, appendonly yes, keys in two dbs), a SQLite database under /srv owned by
www-data with mode 0640, a second PostgreSQL cluster (15/second on 5433) and a second
MariaDB instance (mariadb@second on 3307), the shapes of test_redis_lab.py and the
second-instance modules; then snapshot, plan, `evacuate export` and plain
`ansible-playbook site.yml` onto a blank lab-target. The target has the redis keys with the
source's persistence settings, the SQLite rows with the file's owner and mode, each second
instance running as its own with its databases on its own port or socket (nothing folded
into the main server), and a second run of the data roles changes nothing. Both hosts are
reset afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab.lab import Lab
from tests.lab import test_second_cluster_lab as cluster
from tests.lab import test_second_mariadb_lab as mariadb
from tests.lab.second_instance import on
from tests.lab.test_redis_lab import AUTH, KEYS, KEYSPACE, PASSWORD, install_redis, keyspace
from tests.lab.test_roles_lab import RECAP
from tests.lab.test_run_lab import evacuate, write_config

pytestmark = pytest.mark.slow

SQLITE_DB = "/srv/ledger/ledger.db"
SQLITE_SETUP = (
    "install -d -m 0755 /srv/ledger && python3 -c \"import sqlite3; c = sqlite3.connect("
    f"'{SQLITE_DB}'); c.execute('create table entries (id integer primary key, note text)'); "
    "c.executemany('insert into entries (note) values (?)', [('n%d' % i,) for i in "
    "range(1, 31)]); c.commit()\" && "
    f"chown www-data:www-data {SQLITE_DB} && chmod 0640 {SQLITE_DB}")
SQLITE_ROWS = (f"python3 -c \"import sqlite3; print(sqlite3.connect('file:{SQLITE_DB}?mode=ro', "
               "uri=True).execute('select count(*), max(note) from entries').fetchone())\"")
SQLITE_FILE = f"stat -c '%U:%G %a' {SQLITE_DB}"
DATA_ROLES = "postgresql,mysql,redis,sqlite"

Exported = tuple[Path, subprocess.CompletedProcess[str]]


def _play(lab: Lab, folder: Path, payload: Path, *options: str
          ) -> subprocess.CompletedProcess[str]:
    state = folder / "state"
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}",
               ANSIBLE_PRIVATE_KEY_FILE=str(lab.key), ANSIBLE_NOCOLOR="1",
               ANSIBLE_SSH_ARGS=f"-o UserKnownHostsFile={lab.known_hosts} "
                                "-o StrictHostKeyChecking=yes")
    return subprocess.run(
        [str(bindir / "ansible-playbook"), "site.yml", "--vault-password-file",
         str(state / "keys" / "vault-pass"), "-e", f"evacuate_payload_dir={payload}", *options],
        cwd=state / "plans" / "source-to-target" / "project", env=env, capture_output=True,
        text=True, timeout=1200, check=False)


@pytest.fixture(scope="module")
def exported(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    lab.reset("lab-source")
    lab.reset("lab-target")
    try:
        with lab.open("lab-source") as source:
            install_redis(lab, source)
            for setup in (SQLITE_SETUP, cluster.SECOND, mariadb.SECOND):
                source.run(setup, timeout=300, check=True)
        folder = tmp_path_factory.mktemp("export-stores")
        config = write_config(lab, folder)
        planned = evacuate(config, "plan", "source", "--to", "target")
        assert planned.returncode == 0, planned.stderr[-3000:]
        payload = folder / "payload"
        exported = evacuate(config, "export", "--to", str(payload))
        assert exported.returncode == 0, exported.stderr[-3000:]
        yield folder, _play(lab, folder, payload)
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")


def test_the_playbook_runs(exported: Exported) -> None:
    _, played = exported
    assert played.returncode == 0, played.stdout[-4000:]


def test_the_target_has_the_redis_keys_and_the_sources_persistence(
        lab: Lab, exported: Exported) -> None:
    assert keyspace(on(lab, "lab-target", KEYSPACE)) == KEYS
    assert "yes" in on(lab, "lab-target", AUTH + "redis-cli CONFIG GET appendonly")
    assert on(lab, "lab-target", "systemctl is-active redis-server").strip() == "active"


def test_the_target_has_the_sqlite_rows_with_the_files_owner_and_mode(
        lab: Lab, exported: Exported) -> None:
    assert on(lab, "lab-target", SQLITE_ROWS).strip() == "(30, 'n9')"
    assert on(lab, "lab-target", SQLITE_FILE).strip() == "www-data:www-data 640"


def test_the_second_cluster_is_its_own_with_its_databases_on_its_port(
        lab: Lab, exported: Exported) -> None:
    clusters = on(lab, "lab-target", "pg_lsclusters -h").split("\n")
    assert any(line.split()[:4] == ["15", "second", "5433", "online"] for line in clusters), \
        clusters
    assert on(lab, "lab-target", cluster.LEDGER).strip() == "40|1230.0"
    assert "second_only" in on(lab, "lab-target", cluster.shop_tables(5433)).split()
    assert "ledger" not in on(lab, "lab-target", cluster.databases(5432)).split()
    main_shop = on(lab, "lab-target", cluster.shop_tables(5432)).split()
    assert main_shop and "second_only" not in main_shop
    show = f"{cluster.AS_PG}psql -XAt -p 5433 -d postgres -c 'show work_mem'"
    assert on(lab, "lab-target", show).strip() == "7MB"  # its carried configuration


def test_the_second_mariadb_instance_is_its_own_with_its_databases_on_its_socket(
        lab: Lab, exported: Exported) -> None:
    assert on(lab, "lab-target", "systemctl is-active mariadb@second").strip() == "active"
    assert on(lab, "lab-target", mariadb.on_second("SELECT @@port, @@max_connections")
              ).split() == ["3307", "77"]
    assert on(lab, "lab-target", mariadb.on_second(mariadb.LEDGER)).split() == ["40", "1230.00"]
    assert on(lab, "lab-target", mariadb.on_second(mariadb.LEDGER_USER)).strip() == "1"
    assert "second_only" in on(lab, "lab-target", mariadb.on_second(mariadb.BLOG_TABLES)).split()
    assert "ledger" not in on(lab, "lab-target", mariadb.on_main(mariadb.DATABASES)).split()
    assert on(lab, "lab-target", mariadb.on_main(mariadb.LEDGER_USER)).strip() == "0"


def test_a_second_run_of_the_data_roles_changes_nothing(lab: Lab, exported: Exported) -> None:
    folder, _ = exported
    again = _play(lab, folder, folder / "payload", "--tags", DATA_ROLES)
    assert again.returncode == 0, again.stdout[-4000:]
    recap = RECAP.search(again.stdout)
    assert recap is not None and recap["changed"] == "0", again.stdout[-4000:]


def test_no_secret_in_the_project_or_the_playbooks_output(exported: Exported) -> None:
    """The redis password and the second instance's user's password are in no host_vars,
    no role and no line Ansible printed (the users dumps are payload files, 0600)."""
    folder, played = exported
    project = folder / "state" / "plans" / "source-to-target" / "project"
    texts = [played.stdout, played.stderr]
    texts += [p.read_text(errors="replace") for p in project.rglob("*")
              if p.is_file() and p.name != "vault.yml"]
    assert not [t for t in texts if PASSWORD in t or "ledger-secret-7" in t]
