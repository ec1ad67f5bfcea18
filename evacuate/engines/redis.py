"""Redis: one RDB of the whole server, taken without touching the source's files
(``redis-cli --rdb -`` asks the server for a replication stream, written to stdout), with
the key count of each db (``INFO keyspace``) for verify; restored while the service is
stopped into the configured ``dir`` (owner and AOF handled by sh/redis_restore.sh). The
password is read from redis.conf's ``requirepass`` on the host itself into REDISCLI_AUTH:
it is in no command line, log or plan.

The change marker is the digest of every key's absolute expiry time (PEXPIRETIME, redis 7):
with the key counts and the content digests it tells a keyspace that did not change since
the previous snapshot, whose RDB is then kept (a redis before 7 has no marker: always
dumped)."""

from __future__ import annotations

import shlex
from importlib import resources

from evacuate.engines.base import DumpJob, Engine, Loader, require_loaded
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import DumpEntry
from evacuate.transport.base import Transport

DATABASE = "keyspace"
"""The name of a redis server's one dump (it holds every db)."""


def _sh(name: str) -> str:
    return (resources.files("evacuate.engines") / "sh" / f"{name}.sh").read_text(encoding="utf-8")


DIGEST_LUA = (resources.files("evacuate.engines") / "lua" / "redis_digest.lua").read_text(
    encoding="utf-8")


def _digest(server: DatabaseServer, mode: str) -> str:
    """sh printing sh/redis_digest.sh's lines in ``mode`` (content | expiry)."""
    return (f"{_sh('redis_conf')}\nevac_redis_auth\n"
            f"evac_redis_cli={shlex.quote(_client(server))}\n"
            f"evac_redis_lua={shlex.quote(DIGEST_LUA)}\nevac_redis_mode={mode}\n"
            f"{_sh('redis_digest')}")


def _client(server: DatabaseServer) -> str:
    return f"redis-cli -p {int(server.port or 6379)}"


def _check_rdb(head: bytes, tail: bytes) -> str | None:
    return None if head.startswith(b"REDIS") else "not a redis RDB file"


class Redis(Engine):
    name = "redis"
    handles = ("redis",)
    units = ("redis-server", "redis")
    verify_area = "redis"
    role = "redis"
    per_database_coverage = False

    def dump_jobs(self, server: DatabaseServer) -> list[DumpJob]:
        command = (f"{_sh('redis_conf')}\nevac_redis_auth\n"
                   f"exec {_client(server)} --rdb -\n")
        return [DumpJob("redis", DATABASE, "rdb", command,
                        counts_command=self.counts_command(server, DATABASE),
                        objects_command=self.objects_command(server, DATABASE),
                        marker_command=self.change_marker_command(server, DATABASE),
                        check=_check_rdb)]

    def counts_command(self, server: DatabaseServer, database: str) -> str:
        return (f"{_sh('redis_conf')}\nevac_redis_auth\n"
                f"{_client(server)} INFO keyspace | tr -d '\\r' | "
                "sed -n 's/^\\(db[0-9][0-9]*\\):keys=\\([0-9][0-9]*\\),.*/\\1\\t\\2/p'\n")

    def objects_command(self, server: DatabaseServer, database: str) -> str:
        """``content dbN<TAB><md5>`` per db (see sh/redis_digest.sh)."""
        return _digest(server, "content")

    def change_marker_command(self, server: DatabaseServer, database: str) -> str:
        """The md5 of every db's digest of its keys' expiry times."""
        return (f"m=$( {_digest(server, 'expiry')} ) || exit 1\n"
                "printf '%s\\n' \"$m\" | md5sum\n")

    def restore(self, target: Transport, load: Loader, dump: DumpEntry, owner: str) -> str:
        script = _sh("redis_conf") + "\n" + _sh("redis_restore")
        was_active = target.run("systemctl is-active --quiet redis-server.service",
                                timeout=60).ok
        result = load(f"sh -c {shlex.quote(script)}")
        require_loaded(target, "restoring the redis data", result)
        if was_active:  # it ran before (the package starts it): it runs again, with the data
            target.run("systemctl start redis-server.service", timeout=300, check=True)
        return "restored"

    def drop(self, target: Transport, dump: DumpEntry) -> None:
        """Nothing to drop: a restore replaces the whole data set."""

    def dump_file(self, dump_engine: str, database: str) -> str:
        return "redis-dump.rdb"
