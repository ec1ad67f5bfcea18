"""The cutover reloads only the databases that changed: a dump the final snapshot kept (or
that came out byte for byte the same) is not loaded again if the target still holds that
database as the dump recorded it."""

from __future__ import annotations

from dataclasses import replace

from evacuate.plan.containers_model import ContainersPlan
from evacuate.rebuild.cutover import changed_dumps
from evacuate.snapshot.manifest import BlobRef, DumpEntry
from tests.unit.verify.builders import manifest


def _dump(database: str, sha: str) -> DumpEntry:
    return DumpEntry("postgresql", database, "custom", BlobRef(sha * 64, 1, 1),
                     tables={"public.t": 1}, objects={"content public.t": sha})


def test_only_what_changed_or_what_the_target_changed_is_reloaded() -> None:
    before = replace(manifest(), dumps=(_dump("*globals*", "a"), _dump("shop", "b"),
                                        _dump("blog", "c"), _dump("wiki", "d")))
    after = replace(manifest(), dumps=(_dump("*globals*", "a"), _dump("shop", "e"),
                                       replace(_dump("blog", "c"), unchanged_since="S1"),
                                       _dump("wiki", "d")))
    asked: list[list[str]] = []

    def still_loaded(dumps: list[DumpEntry]) -> set[tuple[str, str]]:
        asked.append([d.database for d in dumps])
        return {("postgresql", "blog")}  # the target's own services wrote to wiki

    moved, kept = changed_dumps(before, after, still_loaded)
    assert [d.database for d in moved] == ["shop", "wiki"]
    assert kept == ["postgresql:*globals*", "postgresql:blog"]
    assert asked == [["blog", "wiki"]]  # the accounts are not a database to look into
    nothing_intact = changed_dumps(before, after, lambda dumps: set())[0]
    assert [d.database for d in nothing_intact] == ["shop", "blog", "wiki"]


def test_the_cutover_stops_every_writer_but_the_servers_it_dumps() -> None:
    from evacuate.plan.model import DatabasePlan, RebuildPlan
    from evacuate.rebuild.cutover import writers

    plan = RebuildPlan.__new__(RebuildPlan)
    object.__setattr__(plan, "services_started", (
        "nginx.service", "postgresql@15-main.service", "mariadb.service", "mongod.service",
        "slapd.service", "redis-server.service", "ssh.service"))
    object.__setattr__(plan, "databases", (DatabasePlan("postgresql", "shop", 1, 1),
                                           DatabasePlan("redis", "*", 1, 0)))
    object.__setattr__(plan, "undumped_units", ())
    object.__setattr__(plan, "containers", ContainersPlan())
    # mariadb is copied as files here (evacuate.yml: mysql: false): stopped, at rest
    assert writers(plan) == ["nginx.service", "mariadb.service", "mongod.service",
                             "slapd.service"]


def test_the_cutover_stops_a_second_instance_the_snapshot_does_not_dump() -> None:
    from evacuate.plan.model import DatabasePlan, RebuildPlan
    from evacuate.rebuild.cutover import writers

    plan = RebuildPlan.__new__(RebuildPlan)
    object.__setattr__(plan, "services_started", (
        "postgresql@15-main.service", "postgresql@15-second.service", "nginx.service"))
    object.__setattr__(plan, "databases", (DatabasePlan("postgresql", "shop", 1, 1),))
    object.__setattr__(plan, "undumped_units", ("postgresql@15-second.service",))
    object.__setattr__(plan, "containers", ContainersPlan())
    assert writers(plan) == ["postgresql@15-second.service", "nginx.service"]


def test_the_servers_that_stayed_up_restart_only_when_their_configuration_changed() -> None:
    from evacuate.plan.model import DatabasePlan, RebuildPlan
    from evacuate.rebuild.cutover import to_restart, writers

    plan = RebuildPlan.__new__(RebuildPlan)
    object.__setattr__(plan, "services_started", (
        "nginx.service", "postgresql@15-main.service", "redis-server.service", "cron.service",
        "ssh.service"))
    object.__setattr__(plan, "databases", (DatabasePlan("postgresql", "shop", 1, 1),
                                           DatabasePlan("redis", "*", 1, 0)))
    object.__setattr__(plan, "undumped_units", ())
    object.__setattr__(plan, "containers", ContainersPlan())
    stopped = writers(plan)
    assert stopped == ["nginx.service", "cron.service"]
    # only data landed: the writers' copies restart, the servers reloaded live do not
    assert to_restart(plan, stopped, {"/srv/www/index.html", "/etcetera/x"}) == stopped
    # a configuration file changed (or went): every unit but sshd restarts
    for landed in ({"/srv/a", "/etc/postgresql/15/main/postgresql.conf"}, {"/etc"}):
        assert to_restart(plan, stopped, landed) == [
            "nginx.service", "postgresql@15-main.service", "redis-server.service",
            "cron.service"]


def test_the_intact_check_hands_what_it_read_to_the_verify() -> None:
    """What the intact check read of the databases it keeps is what the cutover's verify
    gets (not read twice); a database found changed is not handed on (verify reads it
    after its reload)."""
    from evacuate.inventory.model import DatabaseServer, HostInventory
    from evacuate.rebuild.cutover import intact_on
    from evacuate.transport.base import CommandResult
    from evacuate.transport.local import LocalTransport
    from evacuate.verify.databases import MARK, OBJECTS_MARK, CountResult

    class Target(LocalTransport):
        def run_script(self, script: str, *, timeout: float | None = None,
                       check: bool = False) -> CommandResult:
            out = ""
            for line in script.splitlines():
                if line.startswith(f"printf '%s\\n' '{MARK} "):
                    name = line.split("'")[3].split(" ")[2]
                    out += f"{MARK} postgresql {name}\npublic.t\t1\n@@rc 0\n"
                    sha = "b" if name == "shop" else "x"  # shop as dumped, blog changed
                    out += f"{OBJECTS_MARK} postgresql {name}\ncontent public.t\t{sha}\n@@rc 0\n"
            return CommandResult(self.name, "sh -s", 0, out.encode(), b"", 0.0)

    source = HostInventory(host="h", collected_at="now",
                           databases=(DatabaseServer("postgresql", "15"),))
    seen: list[CountResult] = []
    intact = intact_on(Target(name="target"), source, seen)([_dump("shop", "b"),
                                                             _dump("blog", "c")])
    assert intact == {("postgresql", "shop")}
    assert seen == [CountResult("postgresql", "shop", {"public.t": 1},
                                objects={"content public.t": "b"})]
