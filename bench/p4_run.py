"""P4: the whole evacuation, `evacuate plan` + `evacuate run` onto a freshly reset lab-target,
vs the floor a sysadmin would reach by hand with no checks at all, on a reset lab-target.
Side by side, as an expert's script would: `apt-get install -y` of the same packages,
`ssh tar | ssh tar -x` of the plan's data roots straight from host to host (through the
controller; the packages' state under /var/lib waits for their installation, the database
servers' directories are not copied), and the dumps of the same databases into files on the controller
(`pg_dumpall --globals-only`, `pg_dump -Fc`, `mariadb-dump`; one stream per database
server). When the packages are in and the dumps taken, the loads (`psql`, `createdb` +
`pg_restore`, `mariadb`), again one stream per database server, alongside the copy of
/var/lib's roots."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, alternate, concurrently, run, timed
from bench.p2_snapshot import stream
from bench.profile import profile_lines
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


def pipe(source: list[str], sink: list[str], env: dict[str, str] | None = None) -> None:
    """``source | sink`` (``source`` with ``env``); raise if either side fails."""
    with subprocess.Popen(source, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env) as left:
        run(sink, stdin=left.stdout)
        error = left.stderr.read() if left.stderr else b""
    if left.returncode != 0:
        raise RuntimeError(f"{' '.join(source[-1:])[:80]} failed ({left.returncode}): "
                           f"{error.decode(errors='replace')[-500:]}")


AS_PG = "runuser -u postgres --"


@dataclass(frozen=True)
class HandCopy:
    """One database moved by hand: dumped on the source into ``name`` on the controller,
    then loaded on the target by ``load`` (run in order; the last reads the dump)."""

    name: str
    engine: str
    dump: str
    load: tuple[str, ...]


def hand_copies(databases: list[dict[str, object]]) -> list[HandCopy]:
    """The by-hand copies of a plan's ``databases`` (its JSON entries: name, engine, owner):
    PostgreSQL's roles first, then each database but ``postgres``; MariaDB's databases (its
    users are not carried by hand)."""
    copies: list[HandCopy] = []
    for db in databases:
        name, engine = str(db["name"]), str(db["engine"])
        quoted = shlex.quote(name)
        if engine == "postgresql" and name == "*globals*":
            copies.insert(0, HandCopy("pg-globals.sql", engine,
                                      f"{AS_PG} pg_dumpall --globals-only",
                                      (f"{AS_PG} psql -X -q",)))
        elif engine == "postgresql" and name != "postgres":
            owner = shlex.quote(str(db.get("owner") or "postgres"))
            copies.append(HandCopy(f"pg-{name}.dump", engine, f"{AS_PG} pg_dump -Fc -d {quoted}",
                                   (f"{AS_PG} createdb -O {owner} {quoted}",
                                    f"{AS_PG} pg_restore -d {quoted}")))
        elif engine != "postgresql" and name != "*users*":
            copies.append(HandCopy(f"my-{name}.sql", engine,
                                   "mariadb-dump --single-transaction --routines --triggers "
                                   f"--events --hex-blob --databases {quoted}", ("mariadb",)))
    return copies


def by_engine(copies: list[HandCopy]) -> list[list[HandCopy]]:
    """``copies`` in one group per engine, in order: one stream per database server."""
    groups: dict[str, list[HandCopy]] = {}
    for copy in copies:
        groups.setdefault(copy.engine, []).append(copy)
    return list(groups.values())


DATABASE_DIRS = ("/var/lib/postgresql", "/var/lib/mysql")  # moved by dump, not copied


def split_roots(roots: list[str]) -> tuple[list[str], list[str]]:
    """The data roots copied alongside apt-get (data no package writes) and after it (the
    packages' state under /var/lib, which their installation creates); the database
    servers' directories are in neither (their databases move by dump and load)."""
    kept = [r for r in roots if not any(r == d or r.startswith(d + "/") or d.startswith(r + "/")
                                        for d in DATABASE_DIRS)]
    after = [r for r in kept if r == "/var/lib" or r.startswith("/var/lib/")]
    return [r for r in kept if r not in after], after


def tar_create(roots: list[str]) -> str:
    """GNU tar of ``roots`` (absolute paths) relative to /, to stdout."""
    quoted = " ".join(shlex.quote(r.lstrip("/")) for r in roots)
    return f"tar -C / --sparse --one-file-system -cf - {quoted}"


def copy_roots(src: list[str], tgt: list[str], roots: list[str]) -> None:
    """``ssh SOURCE tar -c ROOTS | ssh TARGET tar -x``, nothing when ``roots`` is empty."""
    if roots:
        pipe([*src, tar_create(roots)], [*tgt, "tar -C / -xpf -"])


def take_dumps(src: list[str], group: list[HandCopy], folder: Path) -> None:
    """Each dump of ``group`` from the source into its file in ``folder``, in order."""
    for copy in group:
        stream(src, copy.dump, folder / copy.name)


def load_dumps(tgt: list[str], group: list[HandCopy], folder: Path) -> None:
    """Each dump of ``group`` in ``folder`` loaded on the target by its commands, in order."""
    for copy in group:
        for command in copy.load[:-1]:
            run([*tgt, command])
        with (folder / copy.name).open("rb") as dump:
            run([*tgt, copy.load[-1]], stdin=dump)


def apt_install(packages: list[str]) -> str:
    """The target's one apt transaction for ``packages``, after refreshing its lists."""
    names = " ".join(shlex.quote(str(p)) for p in packages)
    return ("apt-get update -q && DEBIAN_FRONTEND=noninteractive "
            f"apt-get install -y -q {names}")


def by_hand(lab: Lab, plan: dict[str, object], folder: Path) -> None:
    src, tgt = ssh_command(lab, "lab-source"), ssh_command(lab, "lab-target")
    folder.mkdir()
    packages = [str(p) for p in plan["packages"]]  # type: ignore[attr-defined]
    alongside, after = split_roots([str(r) for r in plan["data_roots"]])  # type: ignore[attr-defined]
    groups = by_engine(hand_copies(plan["databases"]))  # type: ignore[arg-type]

    concurrently(lambda: run([*tgt, apt_install(packages)]),
                 lambda: copy_roots(src, tgt, alongside),
                 *(lambda group=group: take_dumps(src, group, folder) for group in groups))
    concurrently(lambda: copy_roots(src, tgt, after),
                 *(lambda group=group: load_dumps(tgt, group, folder) for group in groups))
    shutil.rmtree(folder)


def measure(lab: Lab, rounds: int) -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p4-"))
    runs = iter(range(1_000_000))
    lab.reset("lab-target")
    first = write_config(lab, work / "plan-only")
    plan = json.loads(run([EVACUATE, "plan", "source", "--to", "target", "-c", str(first),
                           "--json"]))

    last: list[tuple[Path, float]] = []  # the run folder and plan seconds

    def evacuate() -> None:
        config = write_config(lab, work / f"run-{next(runs)}")
        last.append((config.parent, timed(
            lambda: run([EVACUATE, "plan", "source", "--to", "target", "-c", str(config)]))))
        run([EVACUATE, "run", "-c", str(config)])

    figure = Figure("P4", "evacuation of lab-source onto a blank lab-target",
                    "evacuate plan + evacuate run (fresh state: full snapshot, verify)",
                    "by hand: apt-get install alongside ssh tar | ssh tar -x and the dumps, "
                    "then the loads",
                    goal=1.3,
                    note=f"{len(plan['packages'])} packages, {len(plan['data_roots'])} data "
                         f"roots, {len(plan['databases'])} dumps; lab-target reset before each "
                         "side (untimed); the floor configures, checks and verifies nothing")
    alternate(figure, evacuate, lambda: by_hand(lab, plan, work / f"hand-{next(runs)}"), rounds,
              warmup=False, prepare_candidate=lambda: lab.reset("lab-target"),
              prepare_anchor=lambda: lab.reset("lab-target"))
    if last:
        figure.profile = profile_lines(*last[-1])
    shutil.rmtree(work, ignore_errors=True)
    return figure
