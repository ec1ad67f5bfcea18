"""Database engines behind one protocol (:class:`evacuate.engines.base.Engine`), one module
per engine. Callers ask :func:`engine_for` (by a server's or a dump's engine name) and
:func:`selected_servers` (which servers evacuate.yml's ``databases`` section dumps); none of
them names an engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from evacuate.engines.base import (
    INSTANCE_MARK,
    DumpJob,
    Engine,
    base_engine,
    instance_of,
    is_accounts,
)
from evacuate.engines.mysql import MySQL
from evacuate.engines.postgresql import PostgreSQL
from evacuate.engines.redis import Redis
from evacuate.engines.sqlite import SQLite
from evacuate.errors import EvacuateError
from evacuate.inventory.model import DatabaseServer, HostInventory

ENGINES: tuple[Engine, ...] = (PostgreSQL(), MySQL(), Redis(), SQLite())
_BY_NAME = {name: e for e in ENGINES for name in (e.name, *e.handles)}

__all__ = ["ENGINES", "Engine", "EngineSelection", "dump_engine", "dump_jobs", "engine_for",
           "extra_instances", "is_accounts", "owner_of", "plan_warnings", "primary_server",
           "selected_servers", "server_of", "undumped_units"]


def engine_for(name: str) -> Engine | None:
    """The engine of a server's or dump's ``engine`` (postgresql, mariadb, redis...), or
    of a setting's name (mysql), a dump's instance tag aside (``postgresql@15-second:5433``);
    None for one evacuate has no engine for."""
    return _BY_NAME.get(base_engine(name))


def dump_engine(server: DatabaseServer, servers: Iterable[DatabaseServer]) -> str:
    """The ``engine`` of ``server``'s dumps: its own, tagged with the instance when it is
    not its engine's first running instance (:func:`primary_server`)."""
    engine = engine_for(server.engine)
    if engine is None or not engine.instances or primary_server(servers, server.engine) == server:
        return server.engine
    tag = engine.instance_tag(server)
    return f"{server.engine}{INSTANCE_MARK}{tag}" if tag else server.engine


def dump_jobs(server: DatabaseServer, servers: Iterable[DatabaseServer]) -> list[DumpJob]:
    """The dump jobs of ``server`` (one of the inventory's ``servers``), their engine tagged
    with the instance when it is not the engine's first (none for an engine evacuate
    cannot dump)."""
    engine = engine_for(server.engine)
    if engine is None:
        return []
    name = dump_engine(server, tuple(servers))
    return [replace(job, engine=job.engine + name[len(server.engine):])
            for job in engine.dump_jobs(server)]


def server_of(servers: Iterable[DatabaseServer], dump_engine: str) -> DatabaseServer | None:
    """The source's server whose dumps carry ``dump_engine`` (a dump's engine, tagged or
    not): a tagged one's instance, else the engine's first running one."""
    servers = tuple(servers)
    plain, tag = base_engine(dump_engine), instance_of(dump_engine)
    if tag:
        engine = engine_for(plain)
        return next((s for s in servers if s.engine == plain and engine is not None
                     and engine.instance_tag(s) == tag), None)
    return primary_server(servers, plain)


class EngineSettingError(EvacuateError):
    """evacuate.yml asks to dump an engine (``true``) the host does not run."""


@dataclass(frozen=True)
class EngineSelection:
    dumped: tuple[DatabaseServer, ...]  # dumped natively
    as_files: tuple[DatabaseServer, ...]  # data directory copied as files
    warnings: tuple[str, ...] = ()


def selected_servers(servers: Iterable[DatabaseServer],
                     settings: Mapping[str, bool | str]) -> EngineSelection:
    """Which servers to dump, by evacuate.yml's per-engine setting (its name: the engine's
    ``name``, e.g. ``mysql`` for MariaDB too; a missing one is ``auto``): ``false`` dumps
    none of the engine's servers (their data directories are copied as files), ``auto``
    dumps those that run, ``true`` dumps them all and is an error when the engine has no
    running server."""
    servers = tuple(servers)
    dumped: list[DatabaseServer] = []
    as_files: list[DatabaseServer] = []
    warnings: list[str] = []
    extra = extra_instances(servers)
    for engine in ENGINES:
        setting = settings.get(engine.name, "auto")
        mine = engine.discover(servers)
        if setting is False:
            as_files += mine
            continue
        for server in [s for s in mine if s in extra]:
            as_files.append(server)
            warnings.append(extra[server])
        mine = [s for s in mine if s not in extra]
        for server in mine:
            if server.running:
                dumped.append(server)
                continue
            if setting is True:
                raise EngineSettingError(
                    f"databases: {engine.name} is true but {server.engine} "
                    f"{server.cluster or server.port or ''} is not running".replace("  ", " "),
                    hint="start it, or set it to auto to copy its data directory as files")
            as_files.append(server)
            warnings.append(f"{server.engine} is not running: its data directory is copied "
                            "as files instead of dumped")
        if setting is True and not mine:
            raise EngineSettingError(f"databases: {engine.name} is true but the inventory "
                                     f"found no {engine.name} server",
                                     hint="set it to auto or false")
    return EngineSelection(tuple(dumped), tuple(as_files), tuple(warnings))


def _label(server: DatabaseServer) -> str:
    name = f"{server.version.split('.')[0]}/{server.cluster}" if server.cluster else ""
    where = ", ".join(x for x in (f"port {server.port}" if server.port else "",
                                  server.data_dir) if x)
    return f"{server.engine} {name}".strip() + (f" ({where})" if where else "")


def extra_instances(servers: Iterable[DatabaseServer]) -> dict[DatabaseServer, str]:
    """The running servers beyond an engine's first, of an engine that cannot rebuild an
    instance of its own (``Engine.instances`` false), each with the warning that names it:
    such an engine dumps and rebuilds the first running one the inventory lists
    (:func:`primary_server`); the others are not folded into it: their data directories are
    copied as files. A PostgreSQL cluster beyond the first is dumped and rebuilt as its own
    (:func:`dump_jobs`)."""
    found: dict[DatabaseServer, str] = {}
    for engine in ENGINES:
        running = [s for s in engine.discover(tuple(servers)) if s.running]
        for server in running[1:] if not engine.instances else ():
            found[server] = (f"{_label(server)} is a second {engine.name} instance beside "
                             f"{_label(running[0])}: evacuate dumps and rebuilds one instance "
                             "per engine, so this one is not dumped and not rebuilt as an "
                             "instance of its own; its data directory is copied as files "
                             "while it runs and may be inconsistent")
    return found


def undumped_units(source: HostInventory) -> tuple[str, ...]:
    """The units of the source's servers beyond an engine's first (:func:`extra_instances`),
    as their engine names them: a cutover stops them before its final copy."""
    units = []
    for server in extra_instances(source.databases):
        engine = engine_for(server.engine)
        unit = engine.unit_of(server) if engine is not None else None
        if unit:
            units.append(unit)
    return tuple(sorted(units))


def primary_server(servers: Iterable[DatabaseServer], engine: str) -> DatabaseServer | None:
    """The server of ``engine`` (a server's engine name) whose databases are dumped untagged:
    the first running one the inventory lists, else its first; never one its engine names an
    instance beside the main server (``Engine.named_instance``)."""
    known = engine_for(engine)
    mine = [s for s in servers if s.engine == engine
            and not (known is not None and known.named_instance(s))]
    return next((s for s in mine if s.running), mine[0] if mine else None)


def owner_of(source: HostInventory, engine: str, database: str) -> str:
    """The owner of ``database`` as the source's catalog says (``pg_database.datdba``) in the
    engine's dumped server (``engine``: a dump's, tagged or not, :func:`server_of`); else
    the engine's default ("" for an engine without owners)."""
    server = server_of(source.databases, engine)
    for db in server.databases if server is not None else ():
        if db.name == database and db.owner:
            return db.owner
    known = engine_for(engine)
    return known.default_owner if known is not None else ""


def plan_warnings(source: HostInventory, dumped: Iterable[tuple[str, str]]) -> list[str]:
    """What the plan says of the source's servers that the snapshot dumped (``dumped``: its
    dumps' engine and database) where an engine carries one in a weaker way than its
    ordinary guarantee (each engine's ``plan_warnings``)."""
    taken = set(dumped)
    lines = list(extra_instances(source.databases).values())
    extra = extra_instances(source.databases)
    for server in source.databases:
        engine = engine_for(server.engine)
        if engine is not None and server not in extra and any((server.engine, db.name) in taken
                                      for db in server.databases):
            lines += engine.plan_warnings(server)
    return lines
