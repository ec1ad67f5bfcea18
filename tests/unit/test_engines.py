"""The engine protocol: which servers evacuate.yml's per-engine settings dump (each engine
off / auto / on), secrets masked in load errors, harmless errors told apart by their exact
message, owners from the catalog, and no engine named outside evacuate/engines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from evacuate.engines import (
    ENGINES,
    EngineSettingError,
    engine_for,
    owner_of,
    selected_servers,
)
from evacuate.engines.base import LoadResult, RestoreFailed, mask_secrets, require_loaded
from evacuate.engines.postgresql import HARMLESS
from evacuate.inventory.model import Database, DatabaseServer, HostInventory
from evacuate.transport.local import LocalTransport

PG = DatabaseServer("postgresql", port=5432, databases=(Database("shop", owner="shopkeeper"),))
MARIA = DatabaseServer("mariadb", port=3306, databases=(Database("blog"),))
REDIS = DatabaseServer("redis", port=6379, databases=(Database("db0", 10),))
STOPPED = DatabaseServer("mariadb", port=3307, running=False)
ALL = (PG, MARIA, REDIS)
SETTING = {"postgresql": "postgresql", "mariadb": "mysql", "redis": "redis"}


@pytest.mark.parametrize("server", ALL, ids=lambda s: s.engine)
@pytest.mark.parametrize("value", [False, "auto", True], ids=["off", "auto", "on"])
def test_each_engine_off_auto_on(server: DatabaseServer, value: bool | str) -> None:
    selection = selected_servers(ALL, {SETTING[server.engine]: value})
    others = [s for s in ALL if s is not server]
    assert (server in selection.dumped) is (value is not False)
    assert (server in selection.as_files) is (value is False)
    assert all(s in selection.dumped for s in others)  # the others stay auto


def test_the_schemas_example_does_not_dump_mariadb() -> None:
    selection = selected_servers(ALL, {"postgresql": "auto", "mysql": False})
    assert selection.dumped == (PG, REDIS) and selection.as_files == (MARIA,)


def test_auto_copies_a_stopped_server_as_files_with_a_warning() -> None:
    selection = selected_servers((STOPPED,), {})
    assert selection.dumped == () and selection.as_files == (STOPPED,)
    assert "not running" in selection.warnings[0]


@pytest.mark.parametrize("servers", [(STOPPED,), ()], ids=["stopped", "absent"])
def test_on_is_an_error_when_the_engine_does_not_run(servers: tuple[DatabaseServer, ...]
                                                      ) -> None:
    with pytest.raises(EngineSettingError, match="databases: mysql is true"):
        selected_servers(servers, {"mysql": True})


def test_every_engine_has_a_setting_in_the_schema() -> None:
    schema = (Path(__file__).parents[2] / "evacuate/config/schema.yaml").read_text()
    block = schema[schema.index("        databases:"):schema.index("        target:")
                   if "        target:" in schema else None]
    for engine in ENGINES:
        assert f"            {engine.name}:" in block


@pytest.mark.parametrize("text", [
    "ERROR:  syntax error at or near \"PASSWORD 'SCRAM-SHA-256$4096:abc=$def:ghi='\"",
    "ERROR 1064 (42000): ... IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567'",
    "ERROR: role x PASSWORD 'md5" + "0" * 32 + "' failed",
    "ERROR 1396 (HY000): IDENTIFIED VIA ed25519 USING 'ZkQ0bWFzaw'",
])
def test_secrets_are_masked(text: str) -> None:
    masked = mask_secrets(text)
    assert "***" in masked
    for secret in ("SCRAM-SHA-256$", "0123456789ABCDEF", "md5000", "ZkQ0bWFzaw"):
        assert secret not in masked


def test_a_role_that_exists_is_harmless_and_any_other_error_fails() -> None:
    target = LocalTransport(name="t")
    exists = 'psql:<stdin>:14: ERROR:  42710: role "postgres" already exists'
    require_loaded(target, "loading roles", LoadResult(0, (exists, "LOCATION:  CreateRole")),
                   HARMLESS)
    other = ("psql:<stdin>:20: ERROR:  42704: role \"ghost\" does not exist: "
             "ALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:salt$key:server'")
    with pytest.raises(RestoreFailed) as caught:
        require_loaded(target, "loading roles", LoadResult(0, (exists, other)), HARMLESS)
    assert "ghost" in str(caught.value) and "already exists" not in str(caught.value)
    assert "SCRAM" not in str(caught.value)
    assert not HARMLESS.search('ERROR:  42710: role "x" already exists, and more')


def test_a_failed_exit_fails_with_the_last_message() -> None:
    with pytest.raises(RestoreFailed, match=r"exit 1.*Access denied"):
        require_loaded(LocalTransport(name="t"), "loading users",
                       LoadResult(1, ("ERROR 1045 (28000): Access denied",)))


def test_owner_from_the_catalog_else_the_engine_default() -> None:
    source = HostInventory(host="h", collected_at="now", databases=(PG, MARIA))
    assert owner_of(source, "postgresql", "shop") == "shopkeeper"
    assert owner_of(source, "postgresql", "other") == "postgres"
    assert owner_of(source, "mariadb", "blog") == ""


def test_engine_names() -> None:
    assert engine_for("mariadb") is engine_for("mysql") is engine_for("mysql")
    assert engine_for("redis") is not None and engine_for("mongodb") is None


def test_no_engine_is_named_outside_the_engines() -> None:
    root = Path(__file__).parents[2] / "evacuate"
    pattern = re.compile(r"runuser -u postgres|\*globals\*|\*users\*|engine (==|in) ")
    found = subprocess.run(["grep", "-rlE", pattern.pattern, str(root), "--include=*.py"],
                           capture_output=True, text=True).stdout.split()
    allowed = ("engines/", "inventory/facts/", "lab/", "plan/crossing.py", "snapshot/rescued.py")
    assert [f for f in found if not any(a in f for a in allowed)] == []


def test_redis_conf_values_are_read_as_redis_reads_them(tmp_path: Path) -> None:
    from evacuate.engines.redis import _sh
    conf = tmp_path / "redis.conf"
    conf.write_text('# requirepass commented\nport 6380\nrequirepass "s3cret pass"\n'
                    "dir /var/lib/redis\nappendonly no\nappendonly yes\n")
    script = (_sh("redis_conf") + '\nprintf "%s|%s|%s\\n" "$(evac_redis_get port)" '
              '"$(evac_redis_get appendonly)" "$(evac_redis_get dir)"\nevac_redis_auth\n'
              '[ "$REDISCLI_AUTH" = "s3cret pass" ] && echo authed\n')
    out = subprocess.run(["sh", "-c", script], env={"EVAC_REDIS_CONF": str(conf),
                                                    "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout
    assert out == "6380|yes|/var/lib/redis\nauthed\n"


def test_redis_commands_are_valid_sh_and_carry_no_password() -> None:
    from evacuate.engines.redis import Redis, _sh
    jobs = Redis().dump_jobs(REDIS)
    assert [j.database for j in jobs] == ["keyspace"] and "--rdb -" in jobs[0].command
    for script in (jobs[0].command, jobs[0].counts_command or "",
                   _sh("redis_conf") + _sh("redis_restore")):
        subprocess.run(["sh", "-n", "-c", script], check=True)


def test_redis_key_counts_are_checks_of_the_redis_area() -> None:
    from evacuate.snapshot.manifest import DumpEntry
    from evacuate.snapshot.store import BlobRef
    from evacuate.verify.coverage import _matches
    from evacuate.verify.databases import CountResult, compare_databases
    dump = DumpEntry("redis", "keyspace", "rdb", BlobRef("0" * 64, 10, 10), False,
                     {"db0": 10, "db3": 2})
    checks = compare_databases([dump], [CountResult("redis", "keyspace",
                                                    {"db0": 10, "db3": 1})])
    assert [(c.area, c.status.name) for c in checks] == [("redis", "PASS"), ("redis", "FAIL")]
    assert all(_matches("redis:*", c.id) for c in checks)
