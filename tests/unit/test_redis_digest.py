"""sh/redis_digest.sh and lua/redis_digest.lua: the content digest of each db and the
change marker, computed by the shipped sh program against a redis-cli that answers with
output captured from a real redis 7.0 (tests/fixtures/engines/redis-7.0/README.md)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from evacuate.engines.base import parse_objects
from evacuate.engines.redis import DIGEST_LUA, Redis
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.databases import parse_counts, unchanged

FIXTURES = Path(__file__).parent.parent / "fixtures" / "engines" / "redis-7.0"
CONTENT = {"content db0": "b3c11610e4ff7b39967a2f57ad627ae7",
           "content db3": "0ca9b878891ca1905c7ba113b6c481ac"}
MARKER = "680c346d70632ea96494438df2925422"
SERVER = DatabaseServer("redis", port=6379)

# A redis-cli that answers from the captured files: INFO keyspace, and each EVAL_RO step
# by db, mode and cursor; it insists on the shipped script and the COUNT of the capture.
FAKE = """#!/bin/sh
d=@FIXTURES@
[ "$1 $2" = "-p 6379" ] || { echo "unexpected $*" >&2; exit 2; }
shift 2
if [ "$1" = INFO ]; then cat "$d/info-keyspace.txt"; exit 0; fi
[ "$1" = -n ] || { echo "unexpected $*" >&2; exit 2; }
db=$2 verb=$3 lua=$4 cursor=$6 mode=$7 count=$8
echo "$verb" >> "$d.verbs"
[ "$(printf '%s' "$lua" | md5sum | cut -c1-32)" = @LUA_MD5@ ] || { echo "not the script" >&2; exit 2; }
[ "$count" = 100 ] || { echo "COUNT $count" >&2; exit 2; }
if [ "$verb" = EVAL_RO ] && [ -e "$d.no-eval-ro" ]; then cat "$d/unknown-command.txt"; exit 0; fi
if [ -e "$d.down" ]; then echo "Could not connect to Redis at 127.0.0.1:6379: Connection refused"; exit 1; fi
cat "$d/eval-db$db-$mode-$cursor.txt"
"""


@pytest.fixture
def redis_cli(tmp_path: Path) -> Path:
    data = tmp_path / "captured"
    shutil.copytree(FIXTURES, data)
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "redis-cli"
    fake.write_text(FAKE.replace("@FIXTURES@", str(data)).replace(
        "@LUA_MD5@", hashlib.md5(DIGEST_LUA.encode()).hexdigest()))
    fake.chmod(0o755)
    return data


def _run(data: Path, command: str) -> subprocess.CompletedProcess[str]:
    conf = data.parent / "redis.conf"
    conf.write_text("port 6379\n")
    return subprocess.run(["sh", "-c", f"evac_redis_count=100\n{command}"], capture_output=True,
                          text=True, check=False,
                          env={"PATH": f"{data.parent / 'bin'}:/usr/bin:/bin",
                               "EVAC_REDIS_CONF": str(conf)})


def test_each_db_gets_the_digest_the_real_server_gave(redis_cli: Path) -> None:
    done = _run(redis_cli, Redis().objects_command(SERVER, "keyspace"))
    assert done.returncode == 0, done.stderr
    assert parse_objects(done.stdout) == CONTENT
    # db0 took five SCAN steps (cursors 0, 124, 29, 478, 511): every one was read
    assert (redis_cli.parent / "captured.verbs").read_text().split() == ["EVAL_RO"] * 6


def test_the_marker_is_the_real_servers(redis_cli: Path) -> None:
    done = _run(redis_cli, Redis().change_marker_command(SERVER, "keyspace"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == MARKER


def test_a_changed_value_changes_its_dbs_digest_only(redis_cli: Path) -> None:
    step = redis_cli / "eval-db3-content-0.txt"
    lines = step.read_text().splitlines()
    lines[2] = "0" * 40  # one key's digest: its value differs
    step.write_text("\n".join(lines) + "\n")
    found = parse_objects(_run(redis_cli, Redis().objects_command(SERVER, "keyspace")).stdout)
    assert found["content db0"] == CONTENT["content db0"]
    assert found["content db3"] != CONTENT["content db3"]


def test_a_redis_without_eval_ro_is_asked_with_eval(redis_cli: Path) -> None:
    (redis_cli.parent / "captured.no-eval-ro").touch()
    done = _run(redis_cli, Redis().objects_command(SERVER, "keyspace"))
    assert parse_objects(done.stdout) == CONTENT, done.stderr
    verbs = (redis_cli.parent / "captured.verbs").read_text().split()
    # each db's scan (a subshell) asks EVAL_RO first once, then every step with EVAL
    assert verbs == ["EVAL_RO", *["EVAL"] * 5, "EVAL_RO", "EVAL"]


def test_a_failed_step_fails_the_listing_and_the_marker(redis_cli: Path) -> None:
    (redis_cli.parent / "captured.down").touch()
    listing = _run(redis_cli, Redis().objects_command(SERVER, "keyspace"))
    assert listing.returncode == 1 and "Connection refused" in listing.stderr
    assert "content" not in listing.stdout
    marker = _run(redis_cli, Redis().change_marker_command(SERVER, "keyspace"))
    assert marker.returncode == 1 and marker.stdout == ""  # no md5 of nothing


def test_an_unchanged_keyspace_keeps_its_dump_and_a_changed_one_does_not(redis_cli: Path
                                                                        ) -> None:
    from evacuate.snapshot.manifest import DumpEntry
    from evacuate.snapshot.store import BlobRef
    counts = parse_counts(_run(redis_cli, Redis().counts_command(SERVER, "keyspace")).stdout)
    assert counts == {"db0": 403, "db3": 6}
    before = DumpEntry("redis", "keyspace", "rdb", BlobRef("0" * 64, 1, 1), False, counts,
                       objects=dict(CONTENT), marker=MARKER)
    assert unchanged(before, MARKER, counts, dict(CONTENT))
    assert not unchanged(before, MARKER, counts, {**CONTENT, "content db3": "1" * 32})
    assert not unchanged(before, "2" * 32, counts, dict(CONTENT))  # an expiry moved
