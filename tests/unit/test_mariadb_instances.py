"""A second MariaDB instance (Debian's ``mariadb@second``: an option group
``[mariadbd.second]`` with port 3307, its own socket and data directory; inventory captured
on the lab's lab-source: tests/fixtures/inventory/mysql/bookworm_two_instances.json) is
dumped and rebuilt as an instance of its own, never folded into the main server: its dumps
are taken over its socket and tagged with it (``mariadb@second:3307``), its data directory
is left to them, the restore makes the instance on the target from its carried
configuration and loads over that configuration's socket, and verify, roles and coverage
read the instance each dump came from."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from evacuate.engines import (
    dump_engine,
    engine_for,
    extra_instances,
    plan_warnings,
    selected_servers,
    server_of,
    undumped_units,
)
from evacuate.engines.base import LoadResult, database_label, instance_of
from evacuate.engines.mysql import instance_command
from evacuate.inventory.facts.mysql import parse
from evacuate.inventory.model import HostInventory
from evacuate.snapshot.databases import jobs_for
from evacuate.snapshot.engine import SnapshotRequest, plan_snapshot
from evacuate.snapshot.manifest import BlobRef, DumpEntry
from evacuate.transport.base import Command, CommandResult
from evacuate.transport.local import LocalTransport
from evacuate.verify.databases import (
    carried_roles,
    compare_databases,
    counts_script,
    parse_counts_output,
)

CAPTURED = Path(__file__).parent.parent / "fixtures" / "inventory" / "mysql" / \
    "bookworm_two_instances.json"
SERVERS = parse(json.loads(CAPTURED.read_text())["output"])
SOURCE = HostInventory(host="source", collected_at="", databases=SERVERS)  # type: ignore[call-arg]
SECOND = "mariadb@second:3307"
SOCKET = "/run/mysqld/mysqld-second.sock"
BLOB = BlobRef("0" * 64, 1, 1)


def test_both_instances_are_found_each_with_its_port_socket_and_databases() -> None:
    assert [(s.cluster, s.port, s.socket, s.data_dir, s.running) for s in SERVERS] == [
        ("", 3306, "/run/mysqld/mysqld.sock", "/var/lib/mysql", True),
        ("second", 3307, SOCKET, "/var/lib/mysql-second", True)]
    assert "ledger" in {d.name for d in SERVERS[1].databases}
    assert "ledger" not in {d.name for d in SERVERS[0].databases}
    assert "'ledger'@'localhost'" in SERVERS[1].roles


def test_an_instance_that_does_not_answer_is_not_running() -> None:
    text = ("@@-- server mariadbd@@\n@@-- query@@\nversion\t10.11.18-MariaDB\t\n"
            "@@-- instance third mariadb@third.service@@\nno socket set for third\n")
    main, third = parse(text)
    assert (third.engine, third.cluster, third.running, third.socket) == (
        "mariadb", "third", False, "")
    assert selected_servers((main, third), {}).dumped == (main,)


def test_both_instances_are_dumped_each_over_its_socket_and_the_second_tagged() -> None:
    selection = selected_servers(SERVERS, {})
    assert selection.dumped == SERVERS and selection.as_files == () and not selection.warnings
    main, second = jobs_for(SERVERS[0], SERVERS), jobs_for(SERVERS[1], SERVERS)
    assert {j.engine for j in main} == {"mariadb"}
    assert all("--socket" not in j.command for j in main)
    assert {j.engine for j in second} == {SECOND}
    for job in second:
        for command in (job.command, job.counts_command, job.objects_command,
                        job.marker_command):
            assert command is None or f"--socket={SOCKET}" in command, command
    assert {j.database for j in main} == {"*users*", "blog"}
    assert {j.database for j in second} == {"*users*", "blog", "ledger", "test"}
    # the users dump leaves the server's own accounts and MariaDB's PUBLIC role
    users = next(j for j in second if j.database == "*users*")
    assert "'PUBLIC'" in users.command and "'mariadb.sys'" in users.command


def test_the_tag_names_instance_and_port() -> None:
    assert instance_of(SECOND) == "second:3307" and engine_for(SECOND) is engine_for("mariadb")
    assert dump_engine(SERVERS[1], SERVERS) == SECOND
    assert dump_engine(SERVERS[0], SERVERS) == "mariadb"
    assert database_label(SECOND, "blog") == "second:3307/blog"
    assert server_of(SERVERS, SECOND) is SERVERS[1]
    assert server_of(SERVERS, "mariadb") is SERVERS[0]


def test_both_data_directories_are_left_to_the_dumps() -> None:
    plan = plan_snapshot(SOURCE, SnapshotRequest(host="source"))
    assert plan.database_dirs == ["/var/lib/mysql", "/var/lib/mysql-second"]
    assert not plan.exclusion.classify("/var/lib/mysql-second/ledger/entries.ibd", None,
                                       "file").carried


def test_no_warning_and_no_unit_left_to_stop() -> None:
    assert plan_warnings(SOURCE, [("mariadb", "blog"), (SECOND, "ledger")]) == []
    assert extra_instances(SERVERS) == {} and undumped_units(SOURCE) == ()


def test_verify_counts_each_instance_on_its_socket_and_keys_its_users_apart() -> None:
    main = DumpEntry("mariadb", "blog", "sql", BLOB, False, {"blog.posts": 2})
    second = DumpEntry(SECOND, "blog", "sql", BLOB, False, {"blog.second_only": 1})
    script = counts_script(SOURCE, [main, second])
    first, _, rest = script.partition(f"{SECOND} blog")
    assert "--socket" not in first and f"--socket={SOCKET}" in rest
    output = ("@@evacuate-verify-db mariadb blog\nblog.posts\t2\n@@rc 0\n"
              f"@@evacuate-verify-db {SECOND} blog\nblog.second_only\t1\n@@rc 0\n")
    checks = compare_databases([main, second], parse_counts_output(output))
    assert {c.name: c.status for c in checks} == {
        "blog: blog.posts": "pass", "second:3307/blog: blog.second_only": "pass"}
    roles = carried_roles(SOURCE)
    assert roles["mysql"] == {"'blog'@'localhost'"}
    assert roles["mysql@second:3307"] == {"'ledger'@'localhost'"}


class Recording(LocalTransport):
    """The target: records what ran, answers 0 to every count."""

    def __init__(self) -> None:
        super().__init__(name="root@target:22")
        self.commands: list[str] = []

    def run(self, command: Command, **kwargs: object) -> CommandResult:  # type: ignore[override]
        assert isinstance(command, str)
        self.commands.append(command)
        return CommandResult(self.name, command, 0, b"0\n", b"", 0.0)


def test_the_restore_makes_the_instance_and_loads_over_its_socket() -> None:
    engine = engine_for(SECOND)
    assert engine is not None
    target, loaded = Recording(), []

    def load(command: str) -> LoadResult:
        loaded.append(command)
        return LoadResult(0, ())

    dump = DumpEntry(SECOND, "ledger", "sql", BLOB, False, {"ledger.entries": 40})
    assert engine.restore(target, load, dump, "") == "restored"
    assert target.commands[0] == instance_command("mariadb", "second")
    assert "systemctl enable --now mariadb@second.service" in target.commands[0]
    socket = "--defaults-group-suffix=.second"
    assert all(socket in c for c in target.commands[1:] + loaded), target.commands
    engine.drop(target, dump)
    assert socket in target.commands[-1] and "DROP DATABASE" in target.commands[-1]
    users = DumpEntry(SECOND, "*users*", "sql", BLOB, True)
    assert engine.restore(target, load, users, "") == "users loaded"
    assert socket in loaded[-1]
    # the main server's dump: no instance made, its default socket
    target, loaded = Recording(), []
    engine.restore(target, load, DumpEntry("mariadb", "blog", "sql", BLOB, False,
                                           {"blog.posts": 2}), "")
    assert not any("--socket" in c or "systemctl" in c for c in target.commands + loaded)


def _fake_tools(bin_dir: Path, log: Path, cnf: str) -> dict[str, str]:
    """my_print_defaults printing ``cnf``'s options as the real one does for the groups it
    is given, install and systemctl that log their arguments."""
    bin_dir.mkdir()
    (bin_dir / "my_print_defaults").write_text(
        f"#!/bin/sh\necho \"my_print_defaults $*\" >> {log}\nprintf '%s' '{cnf}'\n")
    for tool in ("install", "systemctl"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho \"{tool} $*\" >> {log}\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_the_instance_is_made_from_its_carried_configuration(tmp_path: Path) -> None:
    data, log = tmp_path / "mysql-second", tmp_path / "log"
    cnf = (f"--socket=/run/mysqld/mysqld.sock\n--port=3307\n--socket={SOCKET}\n"
           f"--datadir={data}\n")
    env = _fake_tools(tmp_path / "bin", log, cnf)
    subprocess.run(["sh", "-c", instance_command("mariadb", "second")], env=env, check=True)
    ran = [line for line in log.read_text().splitlines()
           if not line.startswith("my_print_defaults")]
    assert ran == [f"install -d -o mysql -g mysql -m 0750 {data}",
                   "systemctl enable --now mariadb@second.service"]
    assert "--defaults-group-suffix=.second" in log.read_text()
    # the data directory is there (a re-run, the next dump): the instance is only started
    data.mkdir()
    log.unlink()
    subprocess.run(["sh", "-c", instance_command("mariadb", "second")], env=env, check=True)
    assert [line for line in log.read_text().splitlines()
            if not line.startswith("my_print_defaults")] == [
        "systemctl enable --now mariadb@second.service"]


def test_a_configuration_without_a_socket_of_its_own_fails(tmp_path: Path) -> None:
    env = _fake_tools(tmp_path / "bin", tmp_path / "log", "--port=3307\n")
    done = subprocess.run(["sh", "-c", instance_command("mariadb", "second")], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "sets no socket" in done.stderr


def test_an_instance_is_never_the_main_server_even_when_the_main_one_is_stopped() -> None:
    stopped = parse("@@-- server mariadbd@@\n@@-- query@@\nERROR 2002 (HY000): Can't connect "
                    "to local server through socket '/run/mysqld/mysqld.sock' (2)\n")[0]
    servers = (stopped, SERVERS[1])
    selection = selected_servers(servers, {})
    assert selection.dumped == (SERVERS[1],) and selection.as_files == (stopped,)
    assert {j.engine for j in jobs_for(SERVERS[1], servers)} == {SECOND}
    assert server_of(servers, SECOND) is SERVERS[1]
    assert server_of(servers, "mariadb") is stopped


def test_the_cutover_keeps_the_dumped_instance_running_for_its_final_dump() -> None:
    from evacuate.plan.containers_model import ContainersPlan
    from evacuate.plan.model import DatabasePlan, RebuildPlan
    from evacuate.rebuild.cutover import writers

    plan = RebuildPlan.__new__(RebuildPlan)
    object.__setattr__(plan, "containers", ContainersPlan())
    object.__setattr__(plan, "services_started", (
        "mariadb.service", "mariadb@second.service", "nginx.service"))
    object.__setattr__(plan, "databases", (DatabasePlan(SECOND, "ledger", 1, 1),))
    object.__setattr__(plan, "undumped_units", undumped_units(SOURCE))
    assert writers(plan) == ["nginx.service"]
