"""What the inventory saw against what verify checked.

Every listening port, enabled unit, data store, data tree and container of the source is an item
(:class:`Seen`) that some check must cover. An item no check covers, or that only skipped
checks cover, becomes a *not verified* check naming it and why, and the report carries the
coverage figure (checked / seen). Nothing the inventory saw passes silently.

Set aside by a named rule, and so not counted: units that belong to the machine rather than
to what it serves (:data:`evacuate.verify.services.IGNORED_UNITS`) and their ports, and a
database engine's own databases (template0, mysql, ...), which its packages make anew.
Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evacuate.engines import dump_engine, engine_for
from evacuate.engines.base import database_label
from evacuate.engines.daemons import found_data_stores
from evacuate.inventory.model import DatabaseServer, HostInventory
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.verify import containers, databases, services
from evacuate.verify.crossing import Crossing
from evacuate.verify.files import data_roots, under
from evacuate.verify.model import Check, Coverage, Status, not_verified

NO_CHECK = "no check for this data store yet"


@dataclass(frozen=True)
class Seen:
    """One thing the inventory found. ``covered_by``: ids of the checks that verify it;
    an entry ending in ``*`` matches every id it begins. ``reason``: what is said when no
    check covers it."""

    area: str
    name: str
    covered_by: tuple[str, ...]
    reason: str


def _listeners(source: HostInventory, crossing: Crossing | None) -> list[Seen]:
    ports: dict[tuple[str, int], set[str]] = {}
    for listener in source.listeners:
        unit = listener.unit or ""
        if unit and unit != "init.scope" and services.ignored(unit):
            continue
        ports.setdefault((listener.proto, listener.port), set()).add(unit)
    items = []
    for (proto, port), units in sorted(ports.items()):
        name = f"{proto}/{port}"
        if port < services.EPHEMERAL_PORTS:
            items.append(Seen("listeners", name, (f"listeners:{name}",),
                              "no check for this port"))
            continue
        owners = sorted(u for u in units if u and u != "init.scope")
        mapped = [crossing.unit(u) if crossing else u for u in owners]
        items.append(Seen("listeners", name, tuple(f"services:{u}" for u in mapped),
                          f"a port in the ephemeral range (assigned anew at each start) and "
                          f"its unit {', '.join(owners) or '(unknown)'} has no check"))
    return items


def _units(source: HostInventory, crossing: Crossing | None) -> list[Seen]:
    items = []
    for name in services.checked_units(source):
        mapped = crossing.unit(name) if crossing else name
        items.append(Seen("services", name, (f"services:{mapped}",), "no check for this unit"))
    return items


def _database_prefixes(server: DatabaseServer, servers: tuple[DatabaseServer, ...]
                       ) -> list[tuple[str, tuple[str, ...]]]:
    """Each database of ``server`` with the ids of the checks that cover it; for an engine
    whose checks cover the server as a whole (redis), the server itself. ``servers``: the
    inventory's, to tell an instance beyond its engine's first (its checks are labelled
    with its tag)."""
    engine = engine_for(server.engine)
    if engine is not None and not engine.per_database_coverage:
        return [("*", (f"{engine.verify_area}:*",))]
    skip = engine.system_databases if engine is not None else frozenset()
    tagged = dump_engine(server, servers)  # an instance beyond the first: its checks' label
    return [(db.name, (f"databases:{tagged}/{db.name}",
                       f"databases:{database_label(tagged, db.name)}: *"))
            for db in server.databases if db.name not in skip]


def _data_stores(source: HostInventory) -> list[Seen]:
    items = []
    for server in source.databases:
        engine = engine_for(server.engine)
        if engine is not None and not engine.per_database_coverage:
            continue  # a data store below (DATA_STORES) stands for the server
        for database, covered in _database_prefixes(server, source.databases):
            tagged = dump_engine(server, source.databases)
            items.append(Seen("databases", f"{tagged}/{database}", covered,
                              "not in the snapshot's dumps: its rows are not counted"))
    for family, roles in sorted(databases.carried_roles(source).items()):
        if roles:
            items.append(Seen("databases", f"{family} roles", (f"databases:{family} role *",),
                              "no check compares this server's roles"))
    for found in found_data_stores(source):
        store, ports = found.store, found.ports
        where = f" (port {', '.join(map(str, ports))})" if ports else ""
        items.append(Seen(store.area, f"{store.label} data{where}", (f"{store.area}:*",),
                          NO_CHECK))
    return items


def _data_trees(source: HostInventory, manifest: SnapshotManifest) -> list[Seen]:
    roots = data_roots(manifest)
    items = []
    for candidate in source.data_candidates:
        path = candidate.path
        # a database engine's data directory (by its kind, or because the inventory found
        # an engine keeping its data there: redis's dir) is covered by that engine's checks
        servers = [s for s in source.databases if s.data_dir and under(s.data_dir, path)]
        covering = [r for r in roots if under(path, r) or under(r, path)]
        if candidate.kind == "database" or servers:
            covered = tuple(c for s in servers for _db, pair in _database_prefixes(s, source.databases)
                            for c in pair) or ("databases:*",)
            items.append(Seen("data", path, (*covered, *(f"data:{r}" for r in covering)),
                              "a database engine's data directory, carried by its dumps, "
                              "and no dump of it was checked"))
            continue
        items.append(Seen("data", path, tuple(f"data:{r}" for r in covering),
                          "not in the snapshot: this data tree was not carried"))
    return items


def _containers(source: HostInventory) -> list[Seen]:
    names = sorted({containers.check_name(c) for c in source.containers.containers})
    rootless = [f"rootless {r.user}/{c.name}" for r in source.containers.rootless
                for c in r.containers]
    return [Seen("containers", name, (f"containers:{name}",),
                 "no check for this container (a Compose service that was not running)")
            for name in names] + [
        Seen("containers", name, (f"containers:{name}",),
             "a rootless Podman container: inventoried, not rebuilt or checked on the target")
        for name in rootless]


def seen_items(source: HostInventory, manifest: SnapshotManifest,
               crossing: Crossing | None = None) -> list[Seen]:
    """Every listening port, enabled unit, data store, data tree and container of
    ``source``."""
    return (_listeners(source, crossing) + _units(source, crossing) + _data_stores(source)
            + _data_trees(source, manifest) + _containers(source))


def _matches(pattern: str, check_id: str) -> bool:
    if pattern.endswith("*"):
        return check_id.startswith(pattern[:-1])
    return check_id == pattern


def assess(items: Sequence[Seen], checks: Sequence[Check]) -> tuple[Coverage, list[Check]]:
    """The coverage of ``items`` by ``checks`` and a not-verified check for each item that
    no check verifies. A check named ``*`` stands for its whole area (the area could not be
    read: a failure, which counts as checked, or a skip, whose reason is given)."""
    whole = {c.area: c for c in checks if c.name == "*"}
    missing: list[Check] = []
    for item in items:
        covering = [c for c in checks if any(_matches(p, c.id) for p in item.covered_by)]
        covering += [whole[a] for a in {p.split(":", 1)[0] for p in item.covered_by}
                     if a in whole]
        if any(c.status is not Status.SKIP for c in covering):
            continue
        reason = covering[0].detail if covering else item.reason
        missing.append(not_verified(item.area, item.name, reason))
    return Coverage(seen=len(items), checked=len(items) - len(missing)), missing
