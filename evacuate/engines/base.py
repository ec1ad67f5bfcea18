"""The protocol every database engine implements, in the way borgmatic's data-source hooks
do: discover (the inventory's servers it handles), dump jobs (streamed commands run on the
source), restore (a dump streamed into a command on the target), drop a half-restored
database, and the command that counts what verify compares. Snapshot, plan, rebuild, verify
and export ask :func:`evacuate.engines.engine_for`; none of them names an engine.

Besides the row counts, an engine can name what else verify compares
(:meth:`Engine.objects_command`: owners, grants, views, routines, triggers, sequences'
values, extensions and a content fingerprint per table), recorded at dump time and read
again on the target. With :meth:`Engine.change_marker_command` (the schema's md5) the same
listing tells a database that did not change since the previous snapshot: its dump is not
taken again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, ClassVar, Protocol

from evacuate.engines.container_cli import container_cli, is_container_cli
from evacuate.errors import RemoteCommandError
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import DumpEntry
from evacuate.transport.base import Transport

ACCOUNTS_PREFIX = "*"
"""A dump whose database name starts with this carries an engine's accounts (roles, users,
grants), not a database: ``*globals*`` (PostgreSQL), ``*users*`` (MySQL/MariaDB)."""


def is_accounts(database: str) -> bool:
    return database.startswith(ACCOUNTS_PREFIX)


INSTANCE_MARK = "@"
"""A dump of an engine's instance beyond its first is tagged in its ``engine``:
``ENGINE@INSTANCE`` (``postgresql@15-second:5433``: version, cluster, port), so that it is
keyed, restored and verified apart from the first instance's dump of a database of the same
name. The tag is the engine's own (:meth:`Engine.instance_tag`)."""


def base_engine(name: str) -> str:
    """``postgresql`` of ``postgresql@15-second:5433`` (a name without a tag: itself)."""
    return name.partition(INSTANCE_MARK)[0]


def instance_of(name: str) -> str:
    """``15-second:5433`` of ``postgresql@15-second:5433``; "" for the first instance."""
    return name.partition(INSTANCE_MARK)[2]


def container_tag(server: DatabaseServer) -> str:
    """The instance tag of a server that runs in a container: ``CLI:CONTAINER``
    (``podman:shop_db_1``), so that its dumps are ``postgresql@podman:shop_db_1``; "" for
    a server of the host's own."""
    return f"{server.container_engine}:{server.container}" if server.container else ""


def container_of(engine: str) -> tuple[str, str]:
    """The CLI and container of a dump's or server's ``engine`` tagged with a container
    (``("podman", "shop_db_1")`` of ``postgresql@podman:shop_db_1``); ("", "") otherwise."""
    cli, sep, name = instance_of(engine).partition(":")
    return (cli, name) if sep and name and is_container_cli(cli) else ("", "")


def exec_prefix(server: DatabaseServer | None, engine: str = "", user: str = "",
                stdin: bool = False) -> str:
    """The prefix that runs an engine's client program where ``server`` runs (a dump's
    ``engine`` when there is no server): inside its container through the container CLI's
    ``exec`` (as ``user``; ``stdin``: the program reads its standard input), else on the
    host as ``user`` (``runuser``); "" for the host's root."""
    cli, name = ((server.container_engine, server.container) if server is not None
                 and server.container else container_of(server.engine if server else engine))
    if name:
        return container_cli(cli).exec(name, user, stdin)
    return f"runuser -u {user} --" if user else ""


def database_label(engine: str, database: str) -> str:
    """How verify names a database in its checks: ``shop``, or ``15-second:5433/shop`` for
    a tagged instance's (apart from the first instance's shop)."""
    tag = instance_of(engine)
    return f"{tag}/{database}" if tag else database


@dataclass(frozen=True)
class DumpJob:
    """One dump to stream from the source: ``command`` writes it to stdout; ``check`` judges
    its first and last bytes (None: complete); ``counts_command`` and ``objects_command``
    print what verify compares (``name<TAB>count`` and ``key<TAB>value`` lines) at dump
    time."""

    engine: str
    database: str
    format: str
    command: str
    secret: bool = False
    counts_command: str | None = None
    objects_command: str | None = None  # ``key<TAB>value`` lines, see Engine.objects_command
    marker_command: str | None = None  # see Engine.change_marker_command
    quiet_command: str | None = None  # see Engine.quiet_command
    # not compared: two jobs that run the same commands are the same job
    check: Callable[[bytes, bytes], str | None] = field(default=lambda head, tail: None,
                                                        compare=False)


@dataclass(frozen=True)
class LoadResult:
    """What a command that read a dump on its stdin said: exit status and stderr lines."""

    status: int
    errors: tuple[str, ...]


class Loader(Protocol):
    """Streams the dump being restored into ``command`` on the target."""

    def __call__(self, command: str) -> LoadResult: ...


class RestoreFailed(RemoteCommandError):
    """A dump (data, roles, users or grants) did not load: the step fails with its error."""


_SECRETS = (
    (re.compile(r"(PASSWORD\s+)'[^']*'", re.I), r"\1'***'"),
    (re.compile(r"(IDENTIFIED\s+(?:BY|VIA|WITH)\b[^']*)'[^']*'", re.I), r"\1'***'"),
    (re.compile(r"(USING\s+)'[^']*'", re.I), r"\1'***'"),
    (re.compile(r"SCRAM-SHA-256\$\S+?(?=['\s\"]|$)"), "***"),
    (re.compile(r"\bmd5[0-9a-f]{32}\b"), "***"),
    (re.compile(r"\*[0-9A-F]{40}\b"), "***"),
)


def mask_secrets(text: str) -> str:
    """``text`` with passwords and password hashes replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def require_loaded(target: Transport, what: str, result: LoadResult,
                   harmless: re.Pattern[str] | None = None,
                   error_line: re.Pattern[str] = re.compile(r"\bERROR\b")) -> None:
    """Raise RestoreFailed when the load failed: a non-zero exit, or an error line that
    ``harmless`` does not match exactly. The message carries the errors, secrets masked."""
    errors = [line for line in result.errors if error_line.search(line)
              and not (harmless is not None and harmless.search(line))]
    if result.status == 0 and not errors:
        return
    shown = errors or list(result.errors[-1:]) or ["no message"]
    more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
    raise RestoreFailed(f"{target.name}: {what} failed (exit {result.status}): "
                        + mask_secrets("; ".join(shown[:3]))[:600] + more,
                        exit_status=result.status or 1)


class Engine:
    """One database engine. Subclasses set the class attributes and the dump and restore
    commands; a method left alone means the engine has no such thing."""

    name: ClassVar[str]  # evacuate.yml's key under ``databases``: postgresql | mysql | redis
    handles: ClassVar[tuple[str, ...]]  # DatabaseServer.engine values it handles
    accounts: ClassVar[str] = ""  # the name of its accounts dump, "" when it has none
    system_databases: ClassVar[frozenset[str]] = frozenset()  # made anew by its packages
    default_owner: ClassVar[str] = ""  # the owner of a database the catalog did not name
    verify_area: ClassVar[str] = "databases"  # the area of its verify checks
    role: ClassVar[str] = ""  # the exported project's role that restores its dumps
    per_database_coverage: ClassVar[bool] = True  # verify covers each database by name
    # kinds of objects_command's keys whose values a new major version may write otherwise
    # (a view's definition as the server prints it): across releases a difference is not
    # verified, not failed; a missing object still fails
    release_bound_objects: ClassVar[frozenset[str]] = frozenset()
    # the systemd units its packages install (name prefixes): they keep running through a
    # cutover while their server is dumped, so that the final dump can be taken
    units: ClassVar[tuple[str, ...]] = ()
    # whether each running instance beyond the first is dumped and rebuilt as its own
    # (instance_tag); False: such an instance is named in the plan and copied as files
    instances: ClassVar[bool] = False

    # the names of its server program as a container's main process (``postgres``): a
    # running container whose command is one of them runs this engine (see
    # evacuate.engines.in_containers); () for an engine not dumped inside containers
    container_programs: ClassVar[tuple[str, ...]] = ()

    def container_data_dir(self, env: dict[str, str], command: tuple[str, ...]) -> str:
        """The data directory inside a container running this engine, as its environment
        and command say (PostgreSQL: ``-D``, else ``PGDATA``, else the official image's)."""
        return ""

    def discover_command(self, server: DatabaseServer) -> str | None:
        """sh printing ``version<TAB>database[<TAB>owner]`` lines of ``server`` (one running
        in a container: the inventory cannot read its catalog otherwise). None: no such
        listing."""
        return None

    def instance_tag(self, server: DatabaseServer) -> str:
        """What tags the dumps of ``server`` when it is not its engine's first instance
        (see INSTANCE_MARK); "" when the engine cannot tell its instances apart. A server
        in a container is tagged with it (:func:`container_tag`)."""
        return container_tag(server)

    def named_instance(self, server: DatabaseServer) -> bool:
        """Whether ``server`` is by its own configuration an instance beside the engine's
        main server (a MariaDB multi-instance unit, a server in a container), so never the
        main one, even when the main server does not run."""
        return bool(server.container)

    def discover(self, servers: tuple[DatabaseServer, ...]) -> list[DatabaseServer]:
        """The inventory's servers this engine handles."""
        return [s for s in servers if s.engine in self.handles]

    def dump_jobs(self, server: DatabaseServer) -> list[DumpJob]:
        raise NotImplementedError

    def data_paths(self, server: DatabaseServer) -> tuple[str, ...]:
        """The paths (``fnmatch`` patterns) whose content ``server``'s dumps carry: the file
        tree leaves them out, on the source and in verify's scan of the target. A server in
        a container has none here: its volume is left by the rule container-engine-data
        (evacuate.snapshot.exclusion)."""
        if server.container:
            return ()
        return (server.data_dir.rstrip("/"),) if server.data_dir and server.running else ()

    def unit_of(self, server: DatabaseServer) -> str | None:
        """The systemd unit that runs ``server`` alone (one of several instances), if any."""
        return None

    def plan_warnings(self, server: DatabaseServer) -> list[str]:
        """What the plan says of how ``server`` is carried, where that is weaker than the
        engine's ordinary guarantee (e.g. a copy without an online backup)."""
        return []

    def carried_roles(self, server: DatabaseServer) -> set[str]:
        """The inventory's roles of ``server`` that its accounts dump carries."""
        return set(server.roles)

    def counts_command(self, server: DatabaseServer, database: str) -> str | None:
        """sh printing ``name<TAB>count`` lines for ``database`` (verify and dump time)."""
        return None

    def restore(self, target: Transport, load: Loader, dump: DumpEntry, owner: str) -> str:
        """Restore ``dump`` on the target; return what was done (restored / skipped: why)."""
        raise NotImplementedError

    def drop(self, target: Transport, dump: DumpEntry) -> None:
        """Drop the target's copy of a (half-restored) database."""

    def query_command(self, database: str, query: str) -> str:
        """sh running ``query`` in ``database`` on the target (verify's SQL checks)."""
        raise NotImplementedError(f"{self.name} takes no SQL queries")

    def playbook_vars(self, dump_engine: str, database: str, owner: str) -> dict[str, Any]:
        """The keys of a dump's entry in the exported project's ``evacuate_databases`` or
        ``evacuate_database_globals`` (playbooks/CONTRACT.md) besides engine, name, owner
        and dump: ``role``, the role that restores it ("" when none does: a server in a
        container, whose dumps the controller's containers step loads), and what that role
        needs to restore it as the controller's :meth:`restore` does (an instance's port,
        a file's owner and mode)."""
        return {"role": "" if container_of(dump_engine)[1] else self.role}

    def dump_file(self, dump_engine: str, database: str) -> str:
        """The file name of a dump in an exported payload (``dump_engine``: the dump's own
        engine, e.g. mariadb)."""
        return f"{dump_engine}-{database.strip(ACCOUNTS_PREFIX)}.sql"

    def objects_command(self, server: DatabaseServer, database: str) -> str | None:
        """sh printing ``key<TAB>value`` lines of what verify compares in ``database``
        besides the row counts: ``content <table>`` (a fingerprint of its rows, the table
        named as in the counts), ``owner``, ``grants[ <grantee>][ <object>]``,
        ``relation|view|routine|trigger|event|sequence|schema|extension <name>``. Values
        that differ between major versions only are judged by verify (see
        evacuate.verify.db_objects). None: the engine has none."""
        return None

    def quiet_command(self, server: DatabaseServer, database: str) -> str | None:
        """sh printing one line, cheap to read, that the server keeps itself and that
        changes whenever anything in ``database`` may have changed (PostgreSQL: the
        database's own statistics, file nodes and sequences, or the cluster's WAL position;
        MariaDB: InnoDB's LSN, the MyISAM tables' state and the schema's md5); nothing when
        the server cannot vouch for it. When it is the line the previous dump recorded, that dump is kept without the
        full check of :meth:`change_marker_command`, the counts and the fingerprints. None:
        the full check always runs."""
        return None

    def change_marker_command(self, server: DatabaseServer, database: str) -> str | None:
        """sh printing one line that differs whenever the schema of ``database`` differs
        (the md5 of a schema-only dump). With the row counts and everything
        :meth:`objects_command` lists (a fingerprint of every table's rows, sequences'
        values) it tells a database that has not changed since the previous snapshot: that
        dump is not taken again (evacuate.snapshot.databases.run_dump). None: every dump is
        taken anew."""
        return None


def sql_check(marker: bytes) -> Callable[[bytes, bytes], str | None]:
    def check(head: bytes, tail: bytes) -> str | None:
        return None if marker in tail else f"the dump does not end with '{marker.decode()}'"
    return check


def sql_file(name: str) -> str:
    """The text of ``evacuate/engines/sql/<name>`` (SQL run on a host lives in files)."""
    return (resources.files("evacuate.engines") / "sql" / name).read_text(encoding="utf-8")


def parse_objects(text: str) -> dict[str, str]:
    """``key<TAB>value`` lines as a dict (a line without a tab is not one)."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("\t")
        if sep and key:
            found[key] = value
    return found


def count_total(target: Transport, command: str) -> int:
    text = target.run(command, timeout=120, check=True).text.strip()
    return int(text) if text.isdigit() else 0
