"""Database servers in containers: found from what ``inspect`` says of the container
(its main process and the named volume under its data directory, captured on
lab-containers), never from names; their commands run through the container CLI's
``exec``, their dumps tagged with the container; their volume left by a named rule."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.engines import ENGINES, dump_jobs, engine_for, selected_servers
from evacuate.engines.base import LoadResult, RestoreFailed, container_of, exec_prefix
from evacuate.engines.container_cli import CONTAINER_EXEC, container_cli
from evacuate.engines.in_containers import (
    container_servers,
    parse_listing,
    with_container_servers,
)
from evacuate.inventory.facts.containers import parse
from evacuate.inventory.model import Container, Containers, Database, DatabaseServer, HostInventory
from evacuate.plan.containers import plan_containers
from evacuate.rebuild.databases import in_container, restore_databases
from evacuate.snapshot.exclusion import Exclusion
from evacuate.snapshot.manifest import BlobRef, DumpEntry
from evacuate.transport.base import Command, CommandResult
from tests.unit.test_engine_instances import Recording

CAPTURE = (Path(__file__).resolve().parents[1]
           / "fixtures/inventory/containers/podman_compose_db_lab.json")
VOLUME = "/var/lib/containers/storage/volumes/shop_db-data/_data"
RUN_IN = f"sh -c {shlex.quote(CONTAINER_EXEC)} container-exec"
EXEC = f"{RUN_IN} podman shop_db_1 postgres 0"
EXEC_IN = f"{RUN_IN} podman shop_db_1 postgres 1"
BLOB = BlobRef("0" * 64, 10, 10)


def _lab() -> Containers:
    return parse(json.loads(CAPTURE.read_text())["output"])


def _db(found: Containers) -> Container:
    return next(c for c in found.containers if c.name == "shop_db_1")


def test_the_lab_database_container_is_found_from_its_main_process_and_volume() -> None:
    found = _lab()
    assert _db(found).command == ("/usr/local/bin/docker-entrypoint.sh", "postgres", "-c",
                                  "listen_addresses=")
    assert container_servers(found, ENGINES) == [DatabaseServer(
        "postgresql", data_dir=VOLUME, container="shop_db_1", container_engine="podman")]


def test_names_do_not_make_a_database_container() -> None:
    """A busybox container called postgres with a volume called pgdata is not one; the
    real one renamed still is."""
    found = _lab()
    web = next(c for c in found.containers if c.name == "shop_web_1")
    decoy = replace(web, name="postgres", image="localhost/postgres:15")
    renamed = replace(_db(found), name="shop-store")
    servers = container_servers(replace(found, containers=(decoy, renamed)), ENGINES)
    assert [s.container for s in servers] == ["shop-store"]


def test_a_stopped_one_or_one_without_its_data_on_a_volume_is_not_dumped() -> None:
    db = _db(_lab())
    stopped = replace(db, state="exited")
    in_layer = replace(db, mounts=())  # its data in the container's own layer
    read_only = replace(db, mounts=tuple(replace(m, read_only=True) for m in db.mounts))
    for container in (stopped, in_layer, read_only):
        assert container_servers(Containers("podman", "4.3.1", (container,)), ENGINES) == []


def test_the_data_directory_comes_from_the_command_then_pgdata() -> None:
    """The official image's shape: entrypoint docker-entrypoint.sh, command postgres, PGDATA
    below the volume's mount point; ``-D`` wins over PGDATA."""
    db = _db(_lab())
    (mount,) = db.mounts
    official = replace(db, command=("docker-entrypoint.sh", "postgres"),
                       env=("PGDATA=/var/lib/postgresql/data/pgdata",),
                       mounts=(replace(mount, destination="/var/lib/postgresql/data"),))
    assert container_servers(Containers("docker", "24", (official,)), ENGINES)[0].data_dir == VOLUME
    elsewhere = replace(official, command=("postgres", "-D", "/srv/pg"))
    assert container_servers(Containers("docker", "24", (elsewhere,)), ENGINES) == []


def test_the_exec_prefix_is_one_simple_command_and_passes_stdin_only_when_asked() -> None:
    cli = container_cli("podman")
    assert cli.exec("shop_db_1", "postgres") == EXEC
    assert cli.exec("shop_db_1", "postgres", stdin=True) == EXEC_IN
    assert container_cli("docker").exec("my db") == f"{RUN_IN} docker 'my db' '' 0"
    assert "podman exec" not in EXEC  # the engine's exec records its sessions on the source
    server = container_servers(_lab(), ENGINES)[0]
    assert exec_prefix(server, user="postgres") == EXEC
    # a dump's engine names its container: the target's commands are built from it
    assert container_of("postgresql@podman:shop_db_1") == ("podman", "shop_db_1")
    assert container_of("postgresql@15-second:5433") == ("", "")
    assert exec_prefix(None, "postgresql@podman:shop_db_1", "postgres") == EXEC
    assert exec_prefix(None, "postgresql", "postgres") == "runuser -u postgres --"


def test_the_dumps_are_taken_inside_the_container_and_tagged_with_it() -> None:
    server = replace(container_servers(_lab(), ENGINES)[0], version="15.18",
                     databases=(Database("postgres"), Database("shop", owner="shop")))
    host = DatabaseServer("postgresql", "15.18", "/var/lib/postgresql/15/main", 5432, "main",
                          databases=(Database("shop"),))
    selection = selected_servers((host, server), {})
    assert selection.dumped == (host, server)
    jobs = dump_jobs(server, (host, server))
    assert [(j.engine, j.database) for j in jobs] == [
        ("postgresql@podman:shop_db_1", "*globals*"), ("postgresql@podman:shop_db_1", "postgres"),
        ("postgresql@podman:shop_db_1", "shop")]
    shop = jobs[-1]
    assert shop.command == f"{EXEC} pg_dump  -Fc -d shop"
    for command in (shop.counts_command, shop.objects_command, shop.marker_command,
                    shop.quiet_command):
        assert command is not None and command.startswith((EXEC, f"q=$({EXEC}", f"s=$({EXEC}"))
        assert "runuser" not in command
    # the pipelines' second psql reads the query from stdin: only it passes stdin on
    assert shop.counts_command is not None and f"| {EXEC_IN} psql" in shop.counts_command
    # the host's own cluster is dumped as before, untagged
    assert [j.engine for j in dump_jobs(host, (host, server))] == ["postgresql"] * 2
    engine = engine_for(server.engine)
    assert engine is not None and engine.data_paths(server) == ()


def test_the_listing_gives_version_databases_and_owners() -> None:
    text = "15.18 (Debian 15.18-0+deb12u1)\tpostgres\tpostgres\n15.18 (Debian 15.18-0+deb12u1)\tshop\tshop\n"
    assert parse_listing(text) == ("15.18 (Debian 15.18-0+deb12u1)", (
        Database("postgres", owner="postgres"), Database("shop", owner="shop")))
    engine = engine_for("postgresql")
    assert engine is not None
    command = engine.discover_command(container_servers(_lab(), ENGINES)[0])
    assert command is not None and command.startswith(f"{EXEC} psql -XAt ")


def test_the_restore_waits_for_the_container_then_loads_inside_it() -> None:
    engine = engine_for("postgresql@podman:shop_db_1")
    assert engine is not None
    target, loaded = Recording(), []

    def load(command: str) -> LoadResult:
        loaded.append(command)
        return LoadResult(0, ())

    dump = DumpEntry("postgresql@podman:shop_db_1", "shop", "custom", BLOB, False,
                     {"public.orders": 5})
    assert engine.restore(target, load, dump, "shop") == "restored"
    assert f"until {EXEC} pg_isready -q" in target.commands[0]
    assert not any("pg_createcluster" in c or "runuser" in c for c in target.commands)
    assert f"{EXEC} createdb -O shop shop" in target.commands
    assert loaded == [f"{EXEC_IN} pg_restore -d shop --exit-on-error"]
    engine.drop(target, dump)
    assert target.commands[-1].startswith(f"{EXEC} dropdb --if-exists --force shop")


def test_the_volume_moves_by_its_dumps_not_as_live_files() -> None:
    found = _lab()
    server = replace(container_servers(found, ENGINES)[0], version="15.18")
    _, before = plan_containers(found)
    assert "volume shop_db-data" in {w.message.split(" is ")[0] for w in before
                                     if w.code == "container-volume-live"}
    _, after = plan_containers(found, (server,))
    assert "volume shop_db-data" not in {w.message.split(" is ")[0] for w in after
                                         if w.code == "container-volume-live"}
    (info,) = [w for w in after if w.code == "container-engine-data"]
    assert info.message.startswith("volume shop_db-data holds the data directory of "
                                   "postgresql 15.18 in container shop_db_1")
    exclusion = Exclusion(engine_volumes=(VOLUME,))
    assert exclusion.classify(VOLUME + "/base/16385/1259").name == "container-engine-data"
    assert exclusion.classify(
        "/var/lib/containers/storage/volumes/shop_notes-data/_data/notes.txt").name == \
        "container-volumes"
    assert VOLUME in exclusion.find_excludes()


def test_the_inventory_adds_the_servers_without_running_anything() -> None:
    inventory = HostInventory(host="h", collected_at="now", containers=_lab())
    added = with_container_servers(inventory, ENGINES)
    assert [s.container for s in added.databases] == ["shop_db_1"]
    assert with_container_servers(HostInventory(host="h", collected_at="now"),
                                  ENGINES).databases == ()


def test_the_run_loads_the_containers_dumps_in_the_containers_step_only() -> None:
    mine = DumpEntry("postgresql@podman:shop_db_1", "shop", "custom", BLOB, False, {})
    host = DumpEntry("postgresql", "shop", "custom", BLOB, False, {})
    assert in_container(mine) and not in_container(host)

    class Manifest:
        dumps = (mine, host)

    done: list[str] = []

    class Blobs:
        pass

    import evacuate.rebuild.databases as rebuild

    def fake_restore(target: object, blobs: object, dump: DumpEntry, owner: str = "",
                     progress: object = None) -> str:
        done.append(dump.engine)
        return "restored"

    original = rebuild.restore_dump
    rebuild.restore_dump = fake_restore  # type: ignore[assignment]
    try:
        restore_databases(Recording(), Blobs(), Manifest(), {}, containers=False)  # type: ignore[arg-type]
        assert done == ["postgresql"]
        restore_databases(Recording(), Blobs(), Manifest(), {}, containers=True)  # type: ignore[arg-type]
        assert done == ["postgresql", "postgresql@podman:shop_db_1"]
    finally:
        rebuild.restore_dump = original  # type: ignore[assignment]


def test_a_load_error_or_a_silent_container_fails_the_restore_with_its_message() -> None:
    engine = engine_for("postgresql@podman:shop_db_1")
    assert engine is not None
    dump = DumpEntry("postgresql@podman:shop_db_1", "shop", "custom", BLOB, False,
                     {"public.orders": 5})

    def failing(command: str) -> LoadResult:
        return LoadResult(1, ('pg_restore: error: could not execute query: ERROR:  relation '
                              '"orders" already exists',))

    with pytest.raises(RestoreFailed, match='restoring postgresql@podman:shop_db_1 shop failed '
                                            r'\(exit 1\): pg_restore: error: .*"orders"'):
        engine.restore(Recording(), failing, dump, "shop")

    class Silent(Recording):
        def run(self, command: Command, **kwargs: object) -> CommandResult:  # type: ignore[override]
            assert isinstance(command, str)
            self.commands.append(command)
            if "pg_isready" in command:
                return CommandResult(self.name, command, 1, b"",
                                     b"Error: no container with name or ID \"shop_db_1\"\n", 0.0)
            return super().run(command)

    with pytest.raises(RestoreFailed, match="PostgreSQL in podman container shop_db_1 does not "
                                            "answer: Error: no container"):
        engine.restore(Silent(), failing, dump, "shop")


def test_sqlite_files_inside_the_engines_own_storage_are_not_the_hosts_databases() -> None:
    """Docker's data-root on the data disk (/srv/docker): the SQLite files found in its
    image and container layers belong to the engine's storage, not to this host; one in a
    named volume, and the host's own, stay."""
    from evacuate.engines.in_containers import without_engine_files
    from evacuate.inventory.model_containers import ContainerVolume

    files = ("/srv/docker/vfs/dir/0123/var/lib/apt/x.db",
             "/srv/docker/containers/ab/cache.sqlite",
             "/srv/docker/volumes/app_data/_data/app.db", "/srv/app/app.db")
    sqlite = DatabaseServer("sqlite", "sqlite3 3.40.1",
                            databases=tuple(Database(f) for f in files))
    engine = Containers(engine="docker", version="20.10.24", storage_root="/srv/docker",
                        named_volumes=(ContainerVolume(
                            "app_data", mountpoint="/srv/docker/volumes/app_data/_data"),))
    inventory = HostInventory(host="h", collected_at="now", containers=engine,
                              databases=(DatabaseServer("postgresql", "15"), sqlite))
    kept = with_container_servers(inventory, ENGINES).databases
    assert [s.engine for s in kept] == ["postgresql", "sqlite"]
    assert [d.name for d in kept[1].databases] == list(files[2:])
    # only layers: no SQLite server is left; an engine that did not say: nothing is dropped
    layers = replace(inventory, databases=(replace(sqlite, databases=sqlite.databases[:2]),))
    assert without_engine_files(layers).databases == ()
    unsaid = replace(inventory, containers=replace(engine, storage_root=""))
    assert without_engine_files(unsaid) == unsaid
