"""A second MariaDB instance on lab-source, as Debian's packages run one: an option group
``[mariadbd.second]`` (port 3307, its own socket, pid file and data directory, a setting)
in /etc/mysql/mariadb.conf.d/60-second.cnf, started with ``systemctl enable --now
mariadb@second`` (the unit's mariadb-install-db initialises the data directory), holding a
ledger database, a blog database of its own beside the main server's blog, and a user of
its own. evacuate dumps it over its socket and rebuilds it on the target as its own
instance, never folded into the main server: the target runs mariadb@second on 3307 with
ledger's rows, its blog, its user and its setting (max_connections); the main server has no
ledger, no such user, and its blog is the main server's; verify checks each instance's
databases on its own socket, the port answers, and no check fails."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from evacuate.lab.lab import Lab
from tests.lab.second_instance import Evacuated, evacuated_with, on
from tests.lab.test_run_lab import evacuate

pytestmark = pytest.mark.slow

SOCKET = "/run/mysqld/mysqld-second.sock"
TAG = "mariadb@second:3307"
CNF = ("[mariadbd.second]\nport = 3307\nsocket = /run/mysqld/mysqld-second.sock\n"
       "pid-file = /run/mysqld/mysqld-second.pid\ndatadir = /var/lib/mysql-second\n"
       "max_connections = 77\n")
SECOND_SQL = ("CREATE DATABASE ledger; USE ledger; "
              "CREATE TABLE entries (id INT PRIMARY KEY, amount DECIMAL(10,2)); "
              "INSERT INTO entries SELECT seq, seq * 1.5 FROM seq_1_to_40; "
              "CREATE DATABASE blog; CREATE TABLE blog.second_only (id INT); "
              "INSERT INTO blog.second_only VALUES (1); "
              "CREATE USER 'ledger'@'localhost' IDENTIFIED BY 'ledger-secret-7'; "
              "GRANT SELECT, INSERT ON ledger.* TO 'ledger'@'localhost'")
SECOND = (f"printf '%s' '{CNF}' > /etc/mysql/mariadb.conf.d/60-second.cnf && "
          "install -d -o mysql -g mysql -m 0750 /var/lib/mysql-second && "
          "systemctl enable --now mariadb@second && "
          f"mariadb --socket={SOCKET} -e \"{SECOND_SQL}\"")


def on_second(sql: str) -> str:
    return f"mariadb --socket={SOCKET} -N -B -e \"{sql}\""


def on_main(sql: str) -> str:
    return f"mariadb -N -B -e \"{sql}\""


LEDGER = "SELECT COUNT(*), SUM(amount) FROM ledger.entries"
DATABASES = "SELECT schema_name FROM information_schema.schemata ORDER BY 1"
BLOG_TABLES = ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'blog' "
               "ORDER BY 1")
LEDGER_USER = "SELECT COUNT(*) FROM mysql.user WHERE user = 'ledger'"


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evacuated]:
    yield from evacuated_with(lab, tmp_path_factory, SECOND, "second-mariadb")


def test_the_plan_dumps_each_instance_as_its_own(evacuated: Evacuated) -> None:
    plan, _, _ = evacuated
    assert not [w for w in plan["warnings"] if "second" in w["message"]], plan["warnings"]
    assert plan["undumped_units"] == []
    found = {(d["engine"], d["name"]) for d in plan["databases"]
             if d["engine"].startswith("mariadb")}
    assert found == {("mariadb", n) for n in ("*users*", "blog")} | {
        (TAG, n) for n in ("*users*", "blog", "ledger", "test")}


def test_the_target_runs_the_second_instance_with_its_databases(
        lab: Lab, evacuated: Evacuated) -> None:
    _, ran, _ = evacuated
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-3000:]
    assert f"{TAG}:ledger: restored" in output, output[-3000:]
    assert on(lab, "lab-target", "systemctl is-active mariadb@second").strip() == "active"
    assert on(lab, "lab-target", on_second("SELECT @@port, @@datadir")).split() == [
        "3307", "/var/lib/mysql-second/"]
    assert on(lab, "lab-target", on_second(LEDGER)).split() == \
        on(lab, "lab-source", on_second(LEDGER)).split() == ["40", "1230.00"]
    assert on(lab, "lab-target", on_second(BLOG_TABLES)).split() == ["second_only"]
    assert on(lab, "lab-target", on_second(LEDGER_USER)).strip() == "1"


def test_the_second_instances_settings_are_the_sources(lab: Lab, evacuated: Evacuated) -> None:
    assert on(lab, "lab-target", on_second("SELECT @@max_connections")).strip() == "77"
    assert on(lab, "lab-target", on_main("SELECT @@max_connections")).strip() != "77"


def test_nothing_of_it_is_folded_into_the_main_server(lab: Lab, evacuated: Evacuated) -> None:
    assert "ledger" not in on(lab, "lab-target", on_main(DATABASES)).split()
    tables = on(lab, "lab-target", on_main(BLOG_TABLES)).split()
    assert tables == on(lab, "lab-source", on_main(BLOG_TABLES)).split()
    assert tables and "second_only" not in tables
    assert on(lab, "lab-target", on_main(LEDGER_USER)).strip() == "0"


def test_verify_checks_each_instance_on_its_socket_and_nothing_fails(
        evacuated: Evacuated) -> None:
    _, _, folder = evacuated
    report = sorted((folder / "state" / "reports").glob("verify-*.json"))[-1]
    checks = {c["id"]: c for c in json.loads(report.read_text())["checks"]}
    failed = {i: c for i, c in checks.items() if c["status"] == "fail"}
    assert failed == {}
    assert checks["databases:second:3307/ledger: ledger.entries"]["status"] == "pass"
    assert checks["databases:second:3307/blog: blog.second_only"]["status"] == "pass"
    assert checks["databases:blog: blog.posts"]["status"] == "pass"
    assert checks["databases:mysql@second:3307 role 'ledger'@'localhost'"]["status"] == "pass"
    port = [c["status"] for i, c in checks.items()
            if i.startswith("listeners:tcp") and i.endswith("/3307")]
    assert port and set(port) == {"pass"}, port


def test_the_instances_password_hash_is_in_no_output(lab: Lab, evacuated: Evacuated) -> None:
    plan, ran, folder = evacuated
    hashed = on(lab, "lab-source", on_second(
        "SELECT JSON_VALUE(priv, '$.authentication_string') FROM mysql.global_priv "
        "WHERE user = 'ledger'")).strip()
    assert hashed.startswith("*") and len(hashed) == 41, hashed
    assert hashed == on(lab, "lab-target", on_second(
        "SELECT JSON_VALUE(priv, '$.authentication_string') FROM mysql.global_priv "
        "WHERE user = 'ledger'")).strip()  # carried: the user logs in with its password
    texts = [json.dumps(plan), ran.stdout, ran.stderr]
    texts += [p.read_text(errors="replace") for p in (folder / "state").rglob("*")
              if p.is_file() and p.suffix in (".json", ".log", ".txt", ".yml")]
    assert not [t for t in texts if hashed in t or "ledger-secret-7" in t]


def test_the_cutover_reloads_the_instances_changed_database_over_its_socket(
        lab: Lab, evacuated: Evacuated) -> None:
    """Last (it changes the source): a row written into the instance's ledger after the
    run is on the target's instance after ``run --cutover``; the databases that did not
    change (the instance's blog, the main server's blog) are not reloaded."""
    _, _, folder = evacuated
    on(lab, "lab-source", on_second("INSERT INTO ledger.entries VALUES (41, 100)"))
    cut = evacuate(folder / "evacuate.yml", "run", "--cutover", "--snapshot", "latest")
    output = cut.stdout + cut.stderr
    assert cut.returncode == 0, output[-4000:]
    kept = next(line for line in output.splitlines() if "not reloaded:" in line)
    assert f"{TAG}:blog" in kept and "mariadb:blog" in kept and "ledger" not in kept, kept
    assert on(lab, "lab-target", on_second(LEDGER)).split() == ["41", "1330.00"]
    assert "ledger" not in on(lab, "lab-target", on_main(DATABASES)).split()
    reverted = evacuate(folder / "evacuate.yml", "revert")
    assert reverted.returncode == 0, reverted.stderr[-3000:]
