"""Database servers that run in containers, found from what the host says of its
containers: a running container whose main process (its entrypoint's command, inspect's
``Path`` and ``Args``) is an engine's server program (``postgres``), with the engine's data
directory on a named volume. Such a server is dumped, restored and counted through the
container CLI's ``exec`` (evacuate.engines.container_cli) by its engine's own commands; its
volume is then carried by its dumps (the rule container-engine-data), not as files.

:func:`container_servers` is pure (the inventory's containers in, servers out), and the
inventory adds them; :func:`list_databases` asks each such server for its version and
databases when a snapshot is taken. ``exec`` here is evacuate's own
(engines/sh/container_exec.sh: nsenter into the container's namespaces), not the engine's,
which records every session in its state database: the source stays unchanged."""

from __future__ import annotations

import posixpath
from dataclasses import replace

from evacuate.engines.base import Engine
from evacuate.inventory.model import (
    Container,
    ContainerMount,
    Containers,
    Database,
    DatabaseServer,
    HostInventory,
)
from evacuate.snapshot.exclusion import engine_storage
from evacuate.transport.base import Transport


def _program_words(command: tuple[str, ...]) -> tuple[str, ...]:
    """The program names a container's main process may be: its first word, and the first
    word of the command its entrypoint runs (``docker-entrypoint.sh postgres -c ...``)."""
    words = [w for w in command[:1]]
    words += [w for w in command[1:2] if not w.startswith("-")]
    return tuple(posixpath.basename(w) for w in words)


def _env(container: Container) -> dict[str, str]:
    return dict(e.partition("=")[::2] for e in container.env)


def _data_volume(container: Container, data_dir: str) -> ContainerMount | None:
    """The named volume mounted at ``data_dir`` or above it (the nearest)."""
    found = [m for m in container.mounts if m.kind == "volume" and not m.read_only
             and (data_dir == m.destination.rstrip("/")
                  or data_dir.startswith(m.destination.rstrip("/") + "/"))]
    return max(found, key=lambda m: len(m.destination), default=None)


def engine_in(container: Container, engines: tuple[Engine, ...]) -> Engine | None:
    """The engine whose server is ``container``'s main process, if any."""
    words = _program_words(container.command)
    return next((e for e in engines if set(e.container_programs) & set(words)), None)


def container_servers(found: Containers, engines: tuple[Engine, ...]) -> list[DatabaseServer]:
    """A server per running container that runs an engine's server with its data directory
    on a named volume (``data_dir``: the volume's path on the host). One whose data is not
    on a named volume (in the container's own layer, or a bind mount) is not one: its files
    are what the host has (a bind mount's tree moves as files)."""
    servers = []
    for container in found.containers:
        engine = engine_in(container, engines) if container.state == "running" else None
        if engine is None:
            continue
        volume = _data_volume(container, engine.container_data_dir(_env(container),
                                                                   container.command))
        if volume is None or not volume.path:
            continue
        servers.append(DatabaseServer(engine.handles[0], data_dir=volume.path, running=True,
                                      container=container.name,
                                      container_engine=found.engine))
    return servers


def parse_listing(text: str) -> tuple[str, tuple[Database, ...]]:
    """``version<TAB>database[<TAB>owner]`` lines: the version and the databases."""
    version, found = "", []
    for line in text.splitlines():
        got, sep, rest = line.partition("\t")
        name, _, owner = rest.partition("\t")
        if sep and name:
            version = version or got.strip()
            found.append(Database(name, owner=owner.strip()))
    return version, tuple(found)


def list_databases(transport: Transport, servers: list[DatabaseServer],
                   engines: dict[str, Engine]) -> tuple[list[DatabaseServer], dict[str, str]]:
    """Each server with its version and databases as it says itself; one that does not
    answer stays, not running (its volume is then copied as files), with the error."""
    listed, errors = [], {}
    for server in servers:
        command = engines[server.engine].discover_command(server)
        result = transport.run(command, timeout=120) if command else None
        if result is None or not result.ok:
            why = ((result.error_text.strip().splitlines() or ["no answer"])[-1]
                   if result is not None else "no listing for this engine")
            errors[f"{server.engine} in container {server.container}"] = why[:300]
            listed.append(replace(server, running=False))
            continue
        version, databases = parse_listing(result.text)
        listed.append(replace(server, version=version, databases=databases))
    return listed, errors


def with_container_servers(inventory: HostInventory,
                           engines: tuple[Engine, ...]) -> HostInventory:
    """``inventory`` with the servers its running containers run added to its databases
    (pure: what ``inspect`` said; their versions and databases are read by
    :func:`with_listed_databases` when a snapshot dumps them)."""
    inventory = without_engine_files(inventory)
    servers = container_servers(inventory.containers, engines)
    if not servers:
        return inventory
    return replace(inventory, databases=(*inventory.databases, *servers))


def without_engine_files(inventory: HostInventory) -> HostInventory:
    """``inventory`` without the SQLite files found inside a container engine's own storage
    (image layers, containers' writable layers: where the engine says it keeps them, which
    may be below a data tree such as /srv), or inside an account's rootless Podman storage
    (which moves as files of its home): not an application's database of this host, and
    left with the storage. One in a named volume stays."""
    found = inventory.containers
    storage = found.storage_dirs() + tuple(r.storage_root for r in found.rootless)
    if not storage:
        return inventory
    inside = engine_storage(storage, found.volume_dirs() + tuple(
        v.mountpoint for r in found.rootless for v in r.volumes))
    servers = tuple(
        replace(s, databases=tuple(d for d in s.databases if not inside(d.name)))
        if s.engine == "sqlite" else s for s in inventory.databases)
    return replace(inventory, databases=tuple(
        s for s in servers if s.engine != "sqlite" or s.databases))


def with_listed_databases(transport: Transport, inventory: HostInventory,
                          engines: tuple[Engine, ...]) -> tuple[HostInventory, dict[str, str]]:
    """``inventory`` with its servers in containers listed by themselves (version,
    databases and owners, asked inside each container at snapshot time), and the errors
    of those that did not answer."""
    mine = [s for s in inventory.databases if s.container and s.running]
    if not mine:
        return inventory, {}
    by_name = {name: e for e in engines for name in e.handles}
    listed, errors = list_databases(transport, mine, by_name)
    swap = dict(zip(mine, listed, strict=True))
    return replace(inventory, databases=tuple(swap.get(s, s) for s in inventory.databases)), errors
