"""The bench workload: seed lab-source with more data than the lab image has, over SSH.

Two sizes (``--size``):

- ``small`` (default, quick): /srv/bench with 5,000 small files and 3 files of 20 MB,
  a PostgreSQL table of about 50 MB, a MariaDB table of about 20 MB.
- ``reference`` (the issue's reference workload, slow): /srv/bench with 10,000 small files
  and ~1 GB in all, PostgreSQL about 200 MB, MariaDB about 100 MB.

File contents are random (incompressible) so that no side wins by compression; database
rows are generated on the host (generate_series, MariaDB's sequence engine). The seeding
writes only into the bench lab's own lab-source, which is thrown away with the lab.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from evacuate.lab.lab import Lab

SRV = "/srv/bench"
PG_DB = "benchpg"
MY_DB = "benchmy"


@dataclass(frozen=True)
class Workload:
    name: str
    small_files: int  # 1-8 KiB each, in directories of 100
    big_files: int
    big_mib: int
    pg_rows: int  # ~100 bytes a row on disk
    my_rows: int  # ~100 bytes a row on disk

    def describe(self) -> str:
        return (f"{self.name}: /srv {self.small_files} small files + {self.big_files}x"
                f"{self.big_mib} MiB, PostgreSQL ~{self.pg_rows // 10_000} MB, "
                f"MariaDB ~{self.my_rows // 10_000} MB")


SIZES = {
    "small": Workload("small", small_files=5_000, big_files=3, big_mib=20,
                      pg_rows=500_000, my_rows=200_000),
    "reference": Workload("reference", small_files=10_000, big_files=10, big_mib=96,
                          pg_rows=2_000_000, my_rows=1_000_000),
}

# Runs on lab-source (python3 is there for the lab's notes app); argv: root count big mib.
_FILES = r"""
import os, random, sys
root, count, big, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(42)
for i in range(count):
    d = os.path.join(root, "small", f"d{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.dat"), "wb") as out:
        out.write(os.urandom(rng.randint(1024, 8192)))
os.makedirs(os.path.join(root, "big"), exist_ok=True)
for i in range(big):
    with open(os.path.join(root, "big", f"blob{i:02d}.bin"), "wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1 << 20))
"""

# Changes 1% of the regular files under a tree (every 100th in sorted order, shifted by
# ``round`` so each round touches other files): rewrites the first 512 bytes in place.
_TOUCH = r"""
import os, sys
root, shift = sys.argv[1], int(sys.argv[2])
paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
               if os.path.isfile(os.path.join(d, f)) and not os.path.islink(os.path.join(d, f)))
chosen = paths[shift % 100::100]
for p in chosen:
    with open(p, "r+b") as out:
        out.write(os.urandom(512))
print(len(chosen))
"""


def ssh_command(lab: Lab, host: str = "lab-source") -> list[str]:
    return ["ssh", "-q", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={lab.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-i", str(lab.key),
            lab.ssh_spec(host)]


def remote(lab: Lab, command: str, host: str = "lab-source", stdin: bytes | None = None,
           timeout: float = 3600) -> str:
    proc = subprocess.run([*ssh_command(lab, host), command], input=stdin, capture_output=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"on {host}: {command[:80]}... failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[-500:]}")
    return proc.stdout.decode(errors="replace")


def python_remote(lab: Lab, program: str, *args: str, host: str = "lab-source") -> str:
    argv = " ".join(shlex.quote(a) for a in args)
    return remote(lab, f"python3 - {argv}", host=host, stdin=program.encode())


def touch_one_percent(tree: str | Path, shift: int, lab: Lab | None = None) -> int:
    """Rewrite 1% of the files under ``tree`` on lab-source (with ``lab``) or locally."""
    if lab is not None:
        return int(python_remote(lab, _TOUCH, str(tree), str(shift)).strip())
    proc = subprocess.run(["python3", "-", str(tree), str(shift)], input=_TOUCH.encode(),
                          capture_output=True, check=True)
    return int(proc.stdout.decode().strip())


def seed(lab: Lab, size: str) -> Workload:
    """Put the workload on lab-source: files under /srv/bench and one database in each
    engine. Idempotent for a fresh lab (the bench starts its own)."""
    work = SIZES[size]
    python_remote(lab, _FILES, SRV, str(work.small_files), str(work.big_files),
                  str(work.big_mib))
    pg = (f"runuser -u postgres -- createdb {PG_DB} && cd / && runuser -u postgres -- psql -X "
          f"-q -v ON_ERROR_STOP=1 -d {PG_DB} -c "
          + shlex.quote("create table events (id bigint primary key, at timestamptz, "
                        "kind text, payload text); insert into events select g, "
                        "now() - g * interval '1 second', 'k' || (g % 17), "
                        "md5(g::text) || md5((g * 7)::text) from generate_series(1, "
                        f"{work.pg_rows}) g; analyze events"))
    remote(lab, pg)
    my = (f"mariadb -e 'create database {MY_DB}' && mariadb {MY_DB} -e "
          + shlex.quote("create table events (id bigint primary key, at datetime, "
                        "kind varchar(16), payload varchar(80)) engine=InnoDB; "
                        "insert into events select seq, now() - interval seq second, "
                        "concat('k', seq % 17), concat(md5(seq), md5(seq * 7)) "
                        f"from seq_1_to_{work.my_rows}"))
    remote(lab, my)
    return work


def evacuate_snapshot_command(lab: Lab, state: Path, host: str = "lab-source") -> list[str]:
    """The CLI run of a snapshot of ``host`` into ``state``'s default (local) store."""
    return [str(Path(sys.executable).parent / "evacuate"), "snapshot",
            lab.ssh_spec(host), "--known-hosts", str(lab.known_hosts), "-i", str(lab.key),
            "--state-dir", str(state), "--json"]


def dump_commands(dumps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(file name, remote command) of the native dumps a sysadmin would take of the same
    databases evacuate dumped: pg_dump -Fc / mariadb-dump --single-transaction, plus roles;
    redis-cli --rdb; sqlite3's .backup."""
    out = []
    for engine, database in dumps:
        if engine == "postgresql" and database == "*globals*":
            out.append(("pg-globals.sql", "runuser -u postgres -- pg_dumpall --globals-only"))
        elif engine == "postgresql":
            out.append((f"pg-{database}.dump",
                        f"runuser -u postgres -- pg_dump -Fc -d {shlex.quote(database)}"))
        elif database == "*users*":
            out.append(("my-grants.sql", "mariadb -N -B -e 'select user, host from mysql.user'"))
        elif engine == "redis":
            out.append(("redis.rdb", "redis-cli --rdb - 2>/dev/null"))
        elif engine == "sqlite":  # the online backup into a file of its own, then streamed
            name = shlex.quote(database)
            out.append((f"sqlite-{len(out)}.db", 't=$(mktemp -d) && sqlite3 -readonly '
                        f'{name} ".backup $t/copy" && cat "$t/copy"; rm -rf "$t"'))
        else:
            out.append((f"my-{database}.sql",
                        "mariadb-dump --single-transaction --routines --triggers --events "
                        f"--hex-blob --databases {shlex.quote(database)}"))
    return out


def dump_groups(dumps: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """dump_commands of ``dumps`` in one group per engine (in first-seen order, each group
    in the dumps' order): what a sysadmin's script runs side by side, one database server's
    dumps one after another."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for engine, database in dumps:
        groups.setdefault(engine, []).extend(dump_commands([(engine, database)]))
    return list(groups.values())
