"""Databases on the target against the snapshot's dumps: every table the dump counted has
the same number of rows (and, where the dump fingerprinted it, the same content) on the
target, and the other objects the dump listed are there alike (evacuate.verify.db_objects).
The commands are each engine's own (evacuate.engines), each database's on a channel of its
own, side by side (:func:`count_rows`)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from evacuate.engines import dump_engine, engine_for, is_accounts, server_of
from evacuate.engines.base import database_label, parse_objects
from evacuate.inventory.model import Database, DatabaseServer, HostInventory
from evacuate.snapshot.databases import parse_counts
from evacuate.snapshot.manifest import OBJECTS_UNREAD, DumpEntry
from evacuate.transport.base import Transport
from evacuate.verify.crossing import Crossing
from evacuate.verify.db_objects import compare_objects, content_problem
from evacuate.verify.model import Check, failed, judged, skipped

MARK = "@@evacuate-verify-db"
OBJECTS_MARK = "@@evacuate-verify-objects"


@dataclass(frozen=True)
class CountResult:
    """Row counts found on the target for one database, or why they could not be had."""

    engine: str
    database: str
    counts: dict[str, int]
    error: str = ""
    objects: dict[str, str] = field(default_factory=dict)
    objects_error: str = ""


def counted_dumps(manifest_dumps: Sequence[DumpEntry]) -> list[DumpEntry]:
    """Dumps of real databases (not roles/users) that carry row counts."""
    return [d for d in manifest_dumps if not is_accounts(d.database)]


def _server_for(source: HostInventory, dump: DumpEntry) -> DatabaseServer:
    server = server_of(source.databases, dump.engine)  # the one whose dumps were taken
    return DatabaseServer(dump.engine, port=server.port if server else None,
                          cluster=server.cluster if server else "",
                          socket=server.socket if server else "",
                          databases=(Database(dump.database),))


def counts_script(source: HostInventory, dumps: Sequence[DumpEntry]) -> str:
    """sh program printing, per dump, a marker line then ``table<TAB>count`` lines (errors
    merged in) and an exit-status line."""
    parts = []
    for dump in dumps:
        engine = engine_for(dump.engine)
        command = (engine.counts_command(_server_for(source, dump), dump.database)
                   if engine is not None else None)
        parts.append(f"printf '%s\\n' {shlex.quote(f'{MARK} {dump.engine} {dump.database}')}")
        if command is None:
            parts.append("echo 'no way to count rows for this engine'; echo \"@@rc 1\"")
            continue
        parts.append(f"( {command} ) 2>&1; echo \"@@rc $?\"")
        listing = (engine.objects_command(_server_for(source, dump), dump.database)
                   if engine is not None and dump.objects and OBJECTS_UNREAD not in dump.objects
                   else None)
        if listing is not None:
            parts.append(f"printf '%s\\n' "
                         f"{shlex.quote(f'{OBJECTS_MARK} {dump.engine} {dump.database}')}")
            parts.append(f"( {listing} ) 2>&1; echo \"@@rc $?\"")
    return "\n".join(parts) + "\nexit 0\n"


def parse_counts_output(text: str) -> list[CountResult]:
    """Parse the output of :func:`counts_script`."""
    results: list[CountResult] = []
    current: tuple[str, str] | None = None
    listing = False  # the lines are of the objects' listing
    lines: list[str] = []

    def close(status: str) -> None:
        if current is None:
            return
        body = "\n".join(lines)
        errors = [line for line in lines if line.strip() and "\t" not in line]
        error = "" if status == "0" else (errors[-1] if errors else f"exit status {status}")
        if not listing:
            results.append(CountResult(current[0], current[1], parse_counts(body), error))
        elif results and (results[-1].engine, results[-1].database) == current:
            results[-1] = replace(results[-1], objects=parse_objects(body), objects_error=error)

    for line in text.splitlines():
        if line.startswith((MARK + " ", OBJECTS_MARK + " ")):
            listing = line.startswith(OBJECTS_MARK)
            engine, _, database = line.partition(" ")[2].partition(" ")
            current, lines = (engine, database), []
        elif line.startswith("@@rc "):
            close(line[5:].strip())
            current = None
        elif current is not None:
            lines.append(line)
    return results


COUNT_CHANNELS = 4
"""Databases counted side by side, each on a channel of its own: their fingerprints read
whole tables, so one after another they leave all but one of the target's cores idle."""


def count_rows(transport: Transport, source: HostInventory, dumps: Sequence[DumpEntry],
               timeout: float = 900, parallel: int = COUNT_CHANNELS) -> list[CountResult]:
    """The target's counts, fingerprints and objects of each dump's database, in the dumps'
    order; at most ``parallel`` databases at once, the largest dumps first."""
    if not dumps:
        return []
    if parallel <= 1 or len(dumps) == 1:
        return parse_counts_output(transport.run_script(counts_script(source, dumps),
                                                        timeout=timeout).text)
    order = sorted(range(len(dumps)), key=lambda i: -dumps[i].blob.size)
    with ThreadPoolExecutor(max_workers=min(parallel, len(dumps)),
                            thread_name_prefix="counts") as pool:
        texts = dict(zip(order, pool.map(lambda i: transport.run_script(
            counts_script(source, [dumps[i]]), timeout=timeout).text, order), strict=True))
    return [r for i in range(len(dumps)) for r in parse_counts_output(texts[i])]


def compare_databases(dumps: Sequence[DumpEntry], found: Sequence[CountResult],
                      crossing: Crossing | None = None) -> list[Check]:
    """One check per counted table: the target has the row count the dump recorded (and
    the content it fingerprinted); the checks of the other objects the dump listed."""
    by_db = {(r.engine, r.database): r for r in found}
    checks = []
    for dump in dumps:
        engine = engine_for(dump.engine)
        area = engine.verify_area if engine is not None else "databases"
        result = by_db.get((dump.engine, dump.database))
        if result is None:
            checks.append(skipped(area, f"{dump.engine}/{dump.database}",
                                  "row counts were not read"))
            continue
        if result.error:
            checks.append(failed(area, f"{dump.engine}/{dump.database}",
                                 f"{len(dump.tables)} tables", "unreadable",
                                 f"counting rows failed: {result.error[:200]}"))
            continue
        if not dump.tables:
            checks.append(judged(True, area, f"{dump.engine}/{dump.database}",
                                 "0 tables", f"{len(result.counts)} tables"))
        for table, rows in sorted(dump.tables.items()):
            have = result.counts.get(table)
            name = f"{database_label(dump.engine, dump.database)}: {table}"
            if have is None:
                checks.append(failed(area, name, f"{rows} rows", "no such table",
                                     "table missing"))
                continue
            if have != rows:
                checks.append(failed(area, name, f"{rows} rows", f"{have} rows",
                                     f"row count differs by {have - rows:+d}"))
                continue
            problem = content_problem(dump, table, result.objects, crossing)
            if problem is None:
                same = "same content" if f"content {table}" in dump.objects else ""
                checks.append(judged(True, area, name, f"{rows} rows", f"{have} rows", same))
            elif problem[1]:
                checks.append(skipped(area, name, f"{rows} rows alike; {problem[0]}"))
            else:
                checks.append(failed(area, name, f"{rows} rows", f"{have} rows",
                                     f"same row count, {problem[0]}"))
        checks.extend(compare_objects(dump, result.objects, result.objects_error, crossing))
    return checks


def carried_roles(host: HostInventory) -> dict[str, set[str]]:
    """engine family (tagged for an instance beyond its engine's first) → the roles
    (PostgreSQL) or 'user'@'host' accounts (MySQL/MariaDB) a dump carries: a MySQL server's
    own system users are made anew by its packages."""
    found: dict[str, set[str]] = {}
    for server in host.databases:
        engine = engine_for(server.engine)
        if engine is not None and engine.accounts:
            # an instance beyond the first: its own family (mysql@second:3307)
            family = engine.name + dump_engine(server, host.databases)[len(server.engine):]
            found.setdefault(family, set()).update(engine.carried_roles(server))
    return found


def compare_roles(source: HostInventory, target: HostInventory,
                  crossing: Crossing | None = None) -> list[Check]:
    """Each database role (PostgreSQL) or account (MySQL/MariaDB) of the source exists on
    the target's server of the same engine (the dumps of globals/users carry them)."""
    theirs = carried_roles(target)
    checks = []
    for family, roles in sorted(carried_roles(source).items()):
        have = theirs.get(family, set())
        for role in sorted(roles):
            checks.append(judged(role in have, "databases", f"{family} role {role}", "present",
                                 "present" if role in have else "missing",
                                 "" if role in have else "the role is missing on the target"))
    return checks
