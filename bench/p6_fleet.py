"""P6: inventory + snapshot of 10 hosts at once vs one host, wall time. Ten lab-source
copies boot in a lab of their own; the ten inventories run as one `evacuate inventory`
(concurrent by design) and the ten snapshots as ten concurrent `evacuate snapshot`s."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure, alternate
from evacuate.lab.lab import Lab, LabHostSpec, LabSpec, default_lab
from evacuate.state import StateDir

EVACUATE = str(Path(sys.executable).parent / "evacuate")
FLEET_LAB = ("evf", 4)
FLEET = 10


def fleet_lab(folder: Path) -> Lab:
    source = default_lab().hosts[0]
    hosts = tuple(LabHostSpec(f"lab-source-{i}", f"s{i}", 30 + i, source.image, source.services)
                  for i in range(FLEET))
    return Lab(LabSpec(lab_id=FLEET_LAB[0], index=FLEET_LAB[1], hosts=hosts),
               StateDir(folder / "lab"))


def _evacuate(lab: Lab, hosts: list[str], state: Path) -> None:
    ssh = ["--known-hosts", str(lab.known_hosts), "-i", str(lab.key), "--state-dir", str(state)]
    specs = [lab.ssh_spec(h) for h in hosts]
    subprocess.run([EVACUATE, "inventory", *specs, *ssh], check=True, capture_output=True)
    procs = [subprocess.Popen([EVACUATE, "snapshot", spec, *ssh], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for spec in specs]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"snapshot failed: {err.decode(errors='replace')[-300:]}")


def measure(_lab: Lab, rounds: int) -> Figure:
    work = Path(tempfile.mkdtemp(prefix="bench-p6-"))
    lab = fleet_lab(work)
    figure = Figure("P6", f"inventory + snapshot of {FLEET} hosts at once vs 1 (wall)",
                    f"{FLEET} hosts concurrently", "1 host", goal=3.0,
                    note="fresh state dir per run (full snapshots); the hosts are copies of "
                         f"the demo's lab-source, on this {os.cpu_count()}-core machine; the "
                         "controller's CPU seconds are its evacuate and ssh processes' own",
                    cpu_per=(FLEET, 1), cpu_unit="host")
    runs = iter(range(1_000_000))
    try:
        lab.down()
        lab.up(timeout=300)
        names = [h.name for h in lab.spec.hosts]
        alternate(figure, lambda: _evacuate(lab, names, work / f"s{next(runs)}"),
                  lambda: _evacuate(lab, names[:1], work / f"s{next(runs)}"),
                  rounds, cpu=True)
    finally:
        lab.down()
        shutil.rmtree(work, ignore_errors=True)
    return figure
