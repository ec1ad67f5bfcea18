"""P2: a full `evacuate snapshot` of lab-source vs what a sysadmin would stream instead:
`ssh HOST tar -cf - ROOTS > file` of the same roots (same excludes) plus the same native
database dumps (`ssh HOST pg_dump -Fc` / `mariadb-dump` > file), onto the same disk. As an
expert would, the dumps stream side by side with the tar, one stream per database server
(`tar > f & (pg_dump; pg_dump) & (mariadb-dump; mariadb-dump) & wait`)."""

from __future__ import annotations

import shlex
import shutil
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate, concurrently, run
from bench.workload import dump_groups, evacuate_snapshot_command, ssh_command
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir


def snapshot_scope(state: Path) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Roots, excludes and (engine, database) dumps of the latest snapshot in ``state``."""
    repo = open_repository(None, StateDir(state))
    refs = repo.refs()
    manifest = repo.load(refs[-1])
    return (list(manifest.roots), list(manifest.excludes),
            [(d.engine, d.database) for d in manifest.dumps])


def tar_command(roots: list[str], excludes: list[str]) -> str:
    """GNU tar of ``roots`` relative to / with evacuate's excludes (find -path patterns
    become tar --exclude patterns anchored at /), sparse files as holes, one filesystem."""
    options = ["--sparse", "--one-file-system", "--ignore-failed-read",
               "--warning=no-file-changed", "--anchored"]
    options += [f"--exclude={p.lstrip('/')}" for p in excludes if p.startswith("/")]
    options += [f"--exclude={p}" for p in excludes if not p.startswith("/")]
    paths = [r.lstrip("/") or "." for r in roots]
    # roots that do not exist are skipped, as evacuate's scan does
    quoted = " ".join(shlex.quote(p) for p in paths)
    return (f"cd / && set -- && for r in {quoted}; do [ -e \"$r\" ] && set -- \"$@\" \"$r\"; "
            f"done; tar {' '.join(shlex.quote(o) for o in options)} -cf - \"$@\"")


def stream(ssh: list[str], command: str, destination: Path) -> None:
    """``ssh HOST command > destination``."""
    with destination.open("wb") as out:
        run([*ssh, command], stdout=out)


def streams(ssh: list[str], commands: list[tuple[str, str]], folder: Path) -> None:
    """``ssh HOST command > folder/name`` for each (name, command), one after another."""
    for name, command in commands:
        stream(ssh, command, folder / name)


def measure(lab: Lab, rounds: int, host: str = "lab-source", key: str = "P2") -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p2-"))
    first = work / "first"
    run(evacuate_snapshot_command(lab, first, host))
    roots, excludes, dumps = snapshot_scope(first)
    ssh = ssh_command(lab, host)
    tar = tar_command(roots, excludes)
    counter = iter(range(1_000_000))

    def evacuate_full() -> None:
        state = work / f"evacuate-{next(counter)}"
        run(evacuate_snapshot_command(lab, state, host))
        shutil.rmtree(state)

    def tar_and_dumps() -> None:
        folder = work / f"tar-{next(counter)}"
        folder.mkdir()
        concurrently(lambda: stream(ssh, tar, folder / "files.tar"),
                     *(lambda group=group: streams(ssh, group, folder)
                       for group in dump_groups(dumps)))
        shutil.rmtree(folder)

    figure = Figure(key, f"full snapshot of {host} (wall time)",
                    "evacuate snapshot HOST (fresh state dir: full)",
                    "ssh tar -cf - ROOTS > file alongside ssh pg_dump/mariadb-dump > files "
                    "(one stream per DB server)",
                    goal=1.15,
                    note=f"same roots ({' '.join(roots)}) and excludes as the snapshot's "
                         f"manifest, same {len(dumps)} dumps; evacuate also scans, "
                         "hashes, encrypts, collects the inventory and counts rows")
    result = alternate(figure, evacuate_full, tar_and_dumps, rounds)
    shutil.rmtree(work, ignore_errors=True)
    return result
