"""P4: the whole evacuation, `evacuate plan` + `evacuate run` onto a freshly reset lab-target,
vs the floor a sysadmin would reach by hand with no checks at all: on a reset lab-target,
`apt-get install -y` of the same packages, `ssh tar | ssh tar -x` of the plan's data roots,
`pg_dumpall --globals-only | psql`, `pg_dump -Fc | pg_restore` and `mariadb-dump | mariadb`
of the same databases, straight from host to host (through the controller)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate, run
from bench.workload import ssh_command
from evacuate.lab.lab import Lab

EVACUATE = str(Path(sys.executable).parent / "evacuate")


def write_config(lab: Lab, folder: Path, store: str = "") -> Path:
    """An evacuate.yml for lab-source -> lab-target (as tests/lab/test_run_lab.py writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "evacuate.yml"
    config.write_text(
        f"state_dir: {folder / 'state'}\n"
        f"ssh:\n  known_hosts: {lab.known_hosts}\n  identity_file: {lab.key}\n"
        f"hosts:\n  source:\n    ssh: {lab.ssh_spec('lab-source')}\n    target: target\n"
        f"targets:\n  target:\n    ssh: {lab.ssh_spec('lab-target')}\n{store}")
    return config


def pipe(source: list[str], sink: list[str]) -> None:
    """``source | sink``; raise if either side fails."""
    with subprocess.Popen(source, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as left:
        run(sink, stdin=left.stdout)
        error = left.stderr.read() if left.stderr else b""
    if left.returncode != 0:
        raise RuntimeError(f"{' '.join(source[-1:])[:80]} failed ({left.returncode}): "
                           f"{error.decode(errors='replace')[-500:]}")


def by_hand(lab: Lab, plan: dict[str, object]) -> None:
    src, tgt = ssh_command(lab, "lab-source"), ssh_command(lab, "lab-target")
    packages = " ".join(shlex.quote(str(p)) for p in plan["packages"])  # type: ignore[attr-defined]
    run([*tgt, "apt-get update -q && DEBIAN_FRONTEND=noninteractive "
                f"apt-get install -y -q {packages}"])
    roots = " ".join(shlex.quote(str(r).lstrip("/")) for r in plan["data_roots"])  # type: ignore[attr-defined]
    pipe([*src, f"tar -C / --sparse --one-file-system -cf - {roots}"],
         [*tgt, "tar -C / -xpf -"])
    as_pg = "runuser -u postgres --"
    for db in plan["databases"]:  # type: ignore[attr-defined]
        name, engine = str(db["name"]), str(db["engine"])
        quoted = shlex.quote(name)
        if engine == "postgresql" and name == "*globals*":
            pipe([*src, f"{as_pg} pg_dumpall --globals-only"], [*tgt, f"{as_pg} psql -X -q"])
        elif engine == "postgresql" and name != "postgres":
            owner = shlex.quote(str(db.get("owner") or "postgres"))
            run([*tgt, f"{as_pg} createdb -O {owner} {quoted}"])
            pipe([*src, f"{as_pg} pg_dump -Fc -d {quoted}"],
                 [*tgt, f"{as_pg} pg_restore -d {quoted}"])
        elif engine != "postgresql" and name != "*users*":
            pipe([*src, "mariadb-dump --single-transaction --routines --triggers --events "
                        f"--hex-blob --databases {quoted}"], [*tgt, "mariadb"])


def measure(lab: Lab, rounds: int) -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p4-"))
    runs = iter(range(1_000_000))
    lab.reset("lab-target")
    first = write_config(lab, work / "plan-only")
    plan = json.loads(run([EVACUATE, "plan", "source", "--to", "target", "-c", str(first),
                           "--json"]))

    def evacuate() -> None:
        config = write_config(lab, work / f"run-{next(runs)}")
        run([EVACUATE, "plan", "source", "--to", "target", "-c", str(config)])
        run([EVACUATE, "run", "-c", str(config)])

    figure = Figure("P4", "evacuation of lab-source onto a blank lab-target",
                    "evacuate plan + evacuate run (fresh state: full snapshot, verify)",
                    "apt-get install + ssh tar | ssh tar -x + dump | restore, by hand",
                    goal=1.3,
                    note=f"{len(plan['packages'])} packages, {len(plan['data_roots'])} data "
                         f"roots, {len(plan['databases'])} dumps; lab-target reset before each "
                         "side (untimed); the floor configures, checks and verifies nothing")
    alternate(figure, evacuate, lambda: by_hand(lab, plan), max(1, min(rounds, 2)),
              warmup=False, prepare_candidate=lambda: lab.reset("lab-target"),
              prepare_anchor=lambda: lab.reset("lab-target"))
    shutil.rmtree(work, ignore_errors=True)
    return figure
