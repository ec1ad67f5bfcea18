"""P3: an incremental `evacuate snapshot` after 1% of the files under /srv changed, vs an
incremental `restic backup` of the same data; P3b: the same incremental snapshot vs a full one.

restic cannot read lab-source's tree over SSH (no sshfs here, and nothing is ever installed
on a source), so its side is what a sysadmin without a remote filesystem would do: the
snapshot's roots are copied once to the controller (`ssh tar | tar -x`, untimed), each round
changes 1% of the files under the copy's /srv the same way as on the host (untimed), and
the timed part runs, side by side as an expert's script would, `restic backup` of the copy
and (one stream per database server) the same database dumps over SSH into files, then a
second `restic backup` of the dump files (a local repository; each backup is incremental
against its previous snapshot of the same paths). restic thus reads its tree locally while
evacuate scans and reads the real host over SSH.

Same class of protection on both sides: restic's default repository (version 2: AES-256 in
counter mode with Poly1305-AES, compression ``auto``), evacuate's AES-256-GCM store (which
does not compress; the workload's random bytes do not compress either).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate, concurrently, run
from bench.p2_snapshot import snapshot_scope, streams, tar_command
from bench.workload import dump_groups, evacuate_snapshot_command, ssh_command, touch_one_percent
from evacuate.lab.lab import Lab


def measure(lab: Lab, rounds: int) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="bench-p3-"))
    state = work / "evacuate"
    run(evacuate_snapshot_command(lab, state))  # the full snapshot the increments build on
    roots, excludes, dumps = snapshot_scope(state)
    ssh = ssh_command(lab)
    copy, dump_dir, repo = work / "copy", work / "copy-dumps", work / "restic"
    copy.mkdir()
    dump_dir.mkdir()
    with subprocess.Popen([*ssh, tar_command(roots, excludes)], stdout=subprocess.PIPE) as tar:
        run(["tar", "-C", str(copy), "--numeric-owner", "-xpf", "-"], stdout=None,
            stdin=tar.stdout)
    env = dict(os.environ, RESTIC_REPOSITORY=str(repo), RESTIC_PASSWORD="bench-only",
               RESTIC_CACHE_DIR=str(work / "restic-cache"))
    run(["restic", "init", "--repository-version", "2"], env)  # restic's default
    shifts = iter(range(1, 1_000_000))
    full_states = iter(range(1_000_000))

    def backup(path: Path) -> None:
        run(["restic", "backup", "--quiet", "--host", "lab-source", str(path)], env)

    def dumps_then_backup() -> None:
        concurrently(*(lambda group=group: streams(ssh, group, dump_dir)
                       for group in dump_groups(dumps)))
        backup(dump_dir)

    def restic_backup() -> None:
        concurrently(lambda: backup(copy), dumps_then_backup)

    restic_backup()  # restic's full backup, the parent of its increments
    changed: list[int] = []

    def change_source() -> None:
        changed.append(touch_one_percent("/srv", next(shifts), lab))

    def change_copy() -> None:
        touch_one_percent(copy / "srv", next(shifts))

    def incremental() -> None:
        run(evacuate_snapshot_command(lab, state))

    def full() -> None:
        fresh = work / f"full-{next(full_states)}"
        run(evacuate_snapshot_command(lab, fresh))
        shutil.rmtree(fresh)

    p3 = Figure("P3", "incremental snapshot, 1% of /srv files changed",
                "evacuate snapshot HOST (after a full one)",
                "restic backup of a local copy of the roots alongside the same dumps over "
                "ssh (+ restic backup of them)", goal=1.0,
                note=f"{len(roots)} roots; restic reads a local copy of them (no sshfs; "
                     "nothing installed on the source) while evacuate scans the host over "
                     "SSH; both re-take the same DB dumps; 1% = every 100th file under /srv; "
                     "restic's default repository (AES-256, compression auto)")
    alternate(p3, incremental, restic_backup, rounds, prepare_candidate=change_source,
              prepare_anchor=change_copy)
    p3b = Figure("P3b", "incremental vs full evacuate snapshot",
                 "evacuate snapshot HOST, incremental (1% of /srv changed)",
                 "evacuate snapshot HOST, full (fresh state dir)", goal=0.1,
                 note=f"{max(changed, default=0)} files changed under /srv per round; both "
                      "re-take the database dumps and the inventory")
    alternate(p3b, incremental, full, rounds, prepare_candidate=change_source)
    shutil.rmtree(work, ignore_errors=True)
    return [p3, p3b]
