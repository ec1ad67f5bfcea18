"""RTO: how long from "the server is gone" to "it answers again on the new host", restoring
from a snapshot in an S3 store (a local SeaweedFS): `evacuate plan --snapshot latest` +
`evacuate run --snapshot latest` onto a freshly reset lab-target, against what an expert
would do by hand to restore the same data from a restic repository on the same S3 server
(goal: at most 1.3 times; both medians also at most 10 min, the issue's first RTO goal).

The anchor's repository is prepared untimed, right after evacuate's snapshot (the bench
changes nothing on lab-source in between, so both hold the same data): the plan's data roots
(P4's split: those no package writes, and the packages' state under /var/lib; the database
servers' directories move by dump) copied to the controller with `ssh tar | tar -x`, the
plan's databases dumped as P4 dumps them (`pg_dumpall --globals-only`, `pg_dump -Fc`,
`mariadb-dump`), and the three sets backed up, one tagged snapshot each, with restic's s3
backend into a repository (restic's default class, version 2) on the SAME SeaweedFS server
evacuate's store is on. The local copies are then removed: a round reads only S3.

Each round, on a reset lab-target, side by side as an expert's script would:
`apt-get install` of the plan's packages (one transaction), `restic dump --tag alongside
latest / --archive tar | ssh TARGET tar -x`, and `restic restore --tag dumps` of the dump
files onto the controller; when the packages are in (their users, /var/lib and database
servers exist), `restic dump --tag after ... | ssh TARGET tar -x` alongside the loads (`psql`,
`createdb` + `pg_restore`, `mariadb`), one stream per database server. Each round starts with
an empty restic cache, as a controller rebuilding after a disaster has.

Why `restic dump | ssh tar -x` for the trees rather than `restic restore` on the controller
then `tar | ssh tar -x`: dump streams each file to the target while it reads the next blobs,
so the download, the SSH stream and the target's extraction overlap and nothing is written
on the controller; restore's parallel downloads would buy nothing against an S3 server on the
same machine (no latency to hide) and would cost a full write of the tree to the
controller's disk and a second read of it by tar before the first byte reaches the target, on
the same two cores. restic itself on the target would need restic installed there and the S3
server reachable from it (neither on a blank host). The dumps are small and loaded only after
apt-get, so they are restored to the controller while apt-get runs, which takes them off the
critical path.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, alternate, concurrently, run, timed
from bench.p4_run import (
    HandCopy,
    apt_install,
    by_engine,
    hand_copies,
    load_dumps,
    pipe,
    split_roots,
    take_dumps,
    tar_create,
    write_config,
)
from bench.profile import profile_lines
from bench.workload import ssh_command
from evacuate.lab.lab import Lab

EVACUATE = str(Path(sys.executable).parent / "evacuate")
GOAL_SECONDS = 600.0
RESTIC_PATH = "restic/bench"  # bucket/prefix of the anchor's repository
EXTRACT = "tar -C / --numeric-owner -xpf -"  # the copy keeps the source's uids and gids


def relative_paths(roots: list[str]) -> list[str]:
    """``roots`` as restic backup's arguments run from the copy's top, so that the snapshot's
    tree starts at the roots' first component (``/srv/data`` is ``srv/data`` there and in
    ``restic dump latest /``); / itself is never a data root."""
    return [r.strip("/") for r in roots if r.strip("/")]


def restic_repository(endpoint: str, path: str = RESTIC_PATH) -> str:
    """restic's s3 backend URL for ``path`` (bucket/prefix) on the server at ``endpoint``."""
    return f"s3:{endpoint.rstrip('/')}/{path.strip('/')}"


def dump_tree(tag: str) -> list[str]:
    """restic's tar stream of the latest snapshot tagged ``tag``, whole."""
    return ["restic", "dump", "--tag", tag, "latest", "/", "--archive", "tar"]


def restore_tree(tag: str, target: Path) -> list[str]:
    """The latest snapshot tagged ``tag`` restored into ``target`` on the controller."""
    return ["restic", "restore", "--tag", tag, "latest", "--target", str(target)]


@dataclass(frozen=True)
class Restore:
    """What the by-hand restore moves: packages, the two sets of roots, the dumps."""

    packages: list[str]
    alongside: list[str]
    after: list[str]
    groups: list[list[HandCopy]]


def restore_of(plan: dict[str, object]) -> Restore:
    """The by-hand restore of a plan's JSON: its packages, data roots (P4's split) and
    databases (one group per engine)."""
    alongside, after = split_roots([str(r) for r in plan["data_roots"]])  # type: ignore[attr-defined]
    return Restore([str(p) for p in plan["packages"]],  # type: ignore[attr-defined]
                   alongside, after, by_engine(hand_copies(plan["databases"])))  # type: ignore[arg-type]


def prepare(lab: Lab, restore: Restore, work: Path, env: dict[str, str]) -> None:
    """The restic repository of the same data (untimed): the roots copied to the controller
    and the dumps taken, each set backed up under its tag, the local copies removed."""
    src = ssh_command(lab, "lab-source")
    run(["restic", "init", "--repository-version", "2"], env)
    for tag, roots in (("alongside", restore.alongside), ("after", restore.after)):
        if roots:
            copy = work / f"copy-{tag}"
            copy.mkdir()
            pipe([*src, tar_create(roots)], ["tar", "-C", str(copy), "--numeric-owner", "-xpf", "-"])
            run(["restic", "backup", "--quiet", "--tag", tag, *relative_paths(roots)], env, cwd=copy)
            shutil.rmtree(copy)
    if restore.groups:
        dumps = work / "copy-dumps"
        dumps.mkdir()
        concurrently(*(lambda group=group: take_dumps(src, group, dumps)
                       for group in restore.groups))
        run(["restic", "backup", "--quiet", "--tag", "dumps",
             *(copy.name for group in restore.groups for copy in group)], env, cwd=dumps)
        shutil.rmtree(dumps)


def by_hand(lab: Lab, restore: Restore, folder: Path, env: dict[str, str]) -> None:
    """One by-hand restore onto the (reset) target, from the restic repository."""
    tgt = ssh_command(lab, "lab-target")
    folder.mkdir()
    env = dict(env, RESTIC_CACHE_DIR=str(folder / "restic-cache"))  # a cold controller
    dumps = folder / "dumps"

    def tree(tag: str, roots: list[str]) -> None:
        if roots:
            pipe(dump_tree(tag), [*tgt, EXTRACT], env)

    concurrently(lambda: run([*tgt, apt_install(restore.packages)]),
                 lambda: tree("alongside", restore.alongside),
                 *([lambda: run(restore_tree("dumps", dumps), env)] if restore.groups else []))
    concurrently(lambda: tree("after", restore.after),
                 *(lambda group=group: load_dumps(tgt, group, dumps)
                   for group in restore.groups))
    shutil.rmtree(folder)


def measure(lab: Lab, rounds: int) -> Figure:
    from tests.integration.store.seaweed import SeaweedFS  # the test helper, from the repo

    work = Path(tempfile.mkdtemp(prefix="bench-rto-"))
    key = work / "store.key"
    key.write_bytes(secrets.token_bytes(32))
    key.chmod(0o600)
    server = SeaweedFS(work / "seaweedfs").start()
    try:
        env = dict(os.environ, **server.env())
        store = (f"store:\n  url: s3://bench/evb\n  endpoint_url: {server.endpoint}\n"
                 f"  key_file: {key}\n")
        config = write_config(lab, work / "rto", store)
        run([EVACUATE, "snapshot", "source", "-c", str(config)], env)  # before the disaster
        lab.reset("lab-target")
        planned = write_config(lab, work / "plan-only", store)
        restore = restore_of(json.loads(run(
            [EVACUATE, "plan", "source", "--to", "target", "--snapshot", "latest",
             "-c", str(planned), "--json"], env)))
        restic = dict(env, RESTIC_REPOSITORY=restic_repository(server.endpoint),
                      RESTIC_PASSWORD="bench-only", RESTIC_CACHE_DIR=str(work / "restic-cache"))
        prepare(lab, restore, work, restic)
        runs = iter(range(1_000_000))
        last: list[tuple[Path, float]] = []  # the run folder and plan seconds

        def evacuate() -> None:
            fresh = write_config(lab, work / f"restore-{next(runs)}", store)
            last.append((fresh.parent, timed(lambda: run(
                [EVACUATE, "plan", "source", "--to", "target", "--snapshot", "latest",
                 "-c", str(fresh)], env))))
            run([EVACUATE, "run", "--snapshot", "latest", "-c", str(fresh)], env)

        dumps = sum(len(group) for group in restore.groups)
        figure = Figure("RTO", "rebuild from the S3 store onto a blank host",
                        "evacuate plan + run --snapshot latest (SeaweedFS S3)",
                        "by hand from restic's s3 repository on the same server: apt-get "
                        "install alongside restic dump | ssh tar -x and restic restore of the "
                        "dumps, then the /var/lib roots alongside the loads",
                        goal=1.3, limit=GOAL_SECONDS,
                        note=f"{len(restore.packages)} packages, "
                             f"{len(restore.alongside) + len(restore.after)} data roots, "
                             f"{dumps} dumps; restic repository v2, prepared untimed from "
                             "the source right after evacuate's snapshot, cold restic cache "
                             "each round; lab-target reset before each side (untimed); the "
                             "source stays up (neither side reads it); the by-hand restore "
                             "configures, checks and verifies nothing; both medians also "
                             f"<= {GOAL_SECONDS:.0f} s")
        alternate(figure, evacuate,
                  lambda: by_hand(lab, restore, work / f"hand-{next(runs)}", restic), rounds,
                  warmup=False, prepare_candidate=lambda: lab.reset("lab-target"),
                  prepare_anchor=lambda: lab.reset("lab-target"))
        if last:
            figure.profile = profile_lines(*last[-1])
        return figure
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
