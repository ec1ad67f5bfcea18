"""P7: the controller's peak RSS during a full `evacuate snapshot` of lab-source with 1 GiB
vs 10 GiB of generated file data under /srv (goal: at most 250 MB, and flat).

The data is written from the host into lab-source's overlay (its upper directory is on the
real disk, not in memory). Each file is preallocated (``fallocate``: allocated, unwritten
extents, so neither the scan nor ``tar --sparse`` sees holes, and every byte is read and
sent) and 1 MiB of fresh random bytes is written every 8 MiB, so 1/8 of the stream is
incompressible data read from disk and the rest zeros read from allocated extents. Nothing
on the way compresses, so the controller hashes, encrypts and stores every byte. The peak
RSS comes from ``wait4`` (the largest of the snapshot process and its waited-for children).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import Figure
from bench.workload import evacuate_snapshot_command
from evacuate.lab.lab import Lab

MIB = 1 << 20
GIB = 1 << 30
DATA_DIR = "srv/bench-p7"
REAL_EVERY = 8 * MIB  # 1 MiB of random bytes at the start of every 8 MiB
LIMIT_MB = 250.0
FLAT = 1.10  # 10 GiB / 1 GiB peak RSS at most this: "flat"
# (name, MiB): the 1 GiB set; the 10 GiB set adds the second list to it
FIRST = [("a-512m.bin", 512), ("b-256m.bin", 256), ("c-256m.bin", 256)]
MORE = [("d-3g.bin", 3072), ("e-2g.bin", 2048), ("f-2g.bin", 2048), ("g-2g.bin", 2048)]
SPARE_BYTES = 5 * GIB


def write_file(path: Path, size: int) -> None:
    """Allocate ``size`` bytes at ``path`` with 1 MiB of random bytes every 8 MiB."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.posix_fallocate(fd, 0, size)
        for offset in range(0, size, REAL_EVERY):
            os.pwrite(fd, os.urandom(min(MIB, size - offset)), offset)
    finally:
        os.close(fd)


def peak_rss(cmd: list[str], log: Path) -> tuple[float, float, dict[str, object]]:
    """Run ``cmd``; return its peak RSS (MB, 10^6 bytes; children included), wall time
    and its JSON output. Raise RuntimeError when it fails."""
    out, err = log.with_suffix(".out"), log.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"snapshot failed ({proc.returncode}): "
                           f"{err.read_text(errors='replace')[-500:]}")
    return usage.ru_maxrss * 1024 / 1e6, seconds, json.loads(out.read_bytes())


def _need_disk(*folders: Path, data: int) -> None:
    """Fail early unless there is room for the data, its store copy and one spool."""
    for folder in folders:
        free = shutil.disk_usage(folder).free
        if free < 2 * data + SPARE_BYTES:
            raise RuntimeError(f"P7 needs {(2 * data + SPARE_BYTES) / GIB:.0f} GiB free on "
                               f"{folder}, has {free / GIB:.1f} GiB")


def measure(lab: Lab, _rounds: int) -> Figure:
    """One snapshot of each size (a peak RSS is not timing noise): 1 GiB, then 10 GiB."""
    root = lab.layout(lab.host("lab-source")).root
    data = root / DATA_DIR
    work = Path(tempfile.mkdtemp(prefix="bench-p7-", dir="/var/tmp"))
    figure = Figure("P7", "controller peak RSS, snapshot of 10 GiB vs 1 GiB",
                    "10 GiB of /srv data", "1 GiB", goal=FLAT, unit="MB", limit=LIMIT_MB)
    seen: list[str] = []
    try:
        _need_disk(root, work, data=sum(m for _, m in FIRST + MORE) * MIB)
        data.mkdir(parents=True, exist_ok=True)
        for files, times in ((FIRST, figure.anchor_times), (MORE, figure.candidate_times)):
            started = time.perf_counter()
            for name, mib in files:
                write_file(data / name, mib * MIB)
            generated = time.perf_counter() - started
            os.sync()  # the snapshot should not share the disk with write-back of the data
            state = work / f"state-{len(seen)}"
            rss, seconds, summary = peak_rss(evacuate_snapshot_command(lab, state),
                                             work / f"run-{len(seen)}")
            totals = summary["totals"]
            assert isinstance(totals, dict)
            size = sum(m for _, m in FIRST) * MIB + (sum(m for _, m in MORE) * MIB
                                                     if files is MORE else 0)
            if int(totals["transferred_bytes"]) < size:
                raise RuntimeError(f"the snapshot read {totals['transferred_bytes']} bytes, "
                                   f"fewer than the {size} generated")
            times.append(rss)
            seen.append(f"{size / GIB:.0f} GiB: {rss:.0f} MB peak, snapshot "
                        f"{seconds:.0f} s ({int(totals['transferred_bytes']) / seconds / 1e6:.0f}"
                        f" MB/s), data written in {generated:.0f} s")
            shutil.rmtree(state)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    figure.note = (f"goal: at most {LIMIT_MB:.0f} MB and 10 GiB/1 GiB <= {FLAT:.2f}x; one "
                   f"full snapshot each (+ the workload and dumps); {'; '.join(seen)}")
    return figure
