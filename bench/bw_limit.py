"""BW: the bandwidth limit (--limit-rate) as achieved, against the limit itself.

Three figures, each the achieved rate over the limit (goal: within 10 %):
- BW-read: a stream out of lab-source (``head -c N /dev/zero`` read through the throttled
  transport, as the snapshot's tar and dumps are read);
- BW-write: a stream into lab-target (``cat > /dev/null`` fed through it, as the run's
  restores and loads are);
- BW-snap: a whole ``take_snapshot`` of lab-source through a throttled transport: every byte
  the host's bucket was charged (listing, tar, dumps, inventory output) over the snapshot's
  wall time. Only its upper bound is a goal: a snapshot also hashes, encrypts and waits
  on its inventory, so it may run below the limit, never above it.
And BW-fleet (its own key, BWF): two hosts at once, a stream out of lab-source and one into
lab-target, each through its own limit, both charged on one fleet-wide limit that is lower
than their sum: the bytes the fleet's bucket was charged over the wall time, against it.
The rounds are timed here; nothing about them is asserted in tests.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.harness import Figure
from evacuate.lab.lab import Lab
from evacuate.snapshot.engine import SnapshotRequest, take_snapshot
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from evacuate.transport import ConnectOptions, RateLimit, Transport, open_transport
from evacuate.transport.throttle import SharedLimit, ThrottledTransport

MiB = 2**20
LIMIT = RateLimit.parse("8M")
STREAM_BYTES = 48 * MiB
SNAPSHOT_LIMIT = RateLimit.parse("16M")


def _throttled(lab: Lab, host: str, limit: RateLimit) -> Transport:
    transport = open_transport(lab.ssh_spec(host), ConnectOptions(
        known_hosts=lab.known_hosts, identity=lab.key, limit_rate=limit))
    transport.run("true", check=True)  # connected before the clock starts
    return transport


def read_rate(lab: Lab) -> float:
    """MiB/s of one stream out of lab-source at LIMIT."""
    with _throttled(lab, "lab-source", LIMIT) as source:
        started = time.perf_counter()
        with source.open_process(f"head -c {STREAM_BYTES} /dev/zero") as proc:
            proc.stdin.close()
            got = 0
            while chunk := proc.stdout.read(MiB):
                got += len(chunk)
            if proc.wait(timeout=300) != 0 or got != STREAM_BYTES:
                raise RuntimeError(f"read {got} of {STREAM_BYTES} bytes")
        return got / (time.perf_counter() - started) / MiB


def write_rate(lab: Lab) -> float:
    """MiB/s of one stream into lab-target at LIMIT."""
    block = bytes(MiB)
    with _throttled(lab, "lab-target", LIMIT) as target:
        started = time.perf_counter()
        with target.open_process("cat > /dev/null") as proc:
            for _ in range(STREAM_BYTES // MiB):
                proc.stdin.write(block)
            if proc.wait(timeout=300) != 0:
                raise RuntimeError(f"cat on the target failed: {proc.stderr_text()[-300:]}")
        return STREAM_BYTES / (time.perf_counter() - started) / MiB


def snapshot_rate(lab: Lab, work: Path) -> float:
    """MiB/s charged to lab-source's bucket over a full snapshot at SNAPSHOT_LIMIT."""
    state = Path(tempfile.mkdtemp(prefix="snap-", dir=work))
    repo = open_repository(None, StateDir(state), create=True)
    with _throttled(lab, "lab-source", SNAPSHOT_LIMIT) as source:
        assert isinstance(source, ThrottledTransport) and source.bucket is not None
        charged = source.bucket.taken
        started = time.perf_counter()
        take_snapshot(source, repo, SnapshotRequest("lab-source"))
        elapsed = time.perf_counter() - started
        rate = (source.bucket.taken - charged) / elapsed / MiB
    shutil.rmtree(state, ignore_errors=True)
    return rate


def _figure(key: str, title: str, candidate: str, rates: list[float], limit: RateLimit,
            goal_min: float | None, note: str) -> Figure:
    wanted = limit.bytes_per_second / MiB
    return Figure(key, title, candidate, f"the limit, {limit}", goal=1.10, goal_min=goal_min,
                  candidate_times=rates, anchor_times=[wanted] * len(rates), unit="MiB/s",
                  note=note)


def measure(lab: Lab, rounds: int) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="bench-bw-"))
    try:
        read_rate(lab)  # warm-up: the lab host's page cache, the connection path
        reads = [read_rate(lab) for _ in range(rounds)]
        writes = [write_rate(lab) for _ in range(rounds)]
        snapshots = [snapshot_rate(lab, work) for _ in range(rounds)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = f"{STREAM_BYTES // MiB} MiB"
    return [
        _figure("BW-read", f"a stream out of the source at --limit-rate {LIMIT}",
                "achieved rate", reads, LIMIT, 0.90,
                f"{size} from lab-source through the throttled SSH transport; ratio is "
                "achieved/limit, goal 0.90-1.10"),
        _figure("BW-write", f"a stream into the target at --limit-rate {LIMIT}",
                "achieved rate", writes, LIMIT, 0.90,
                f"{size} into lab-target through the throttled SSH transport; ratio is "
                "achieved/limit, goal 0.90-1.10"),
        _figure("BW-snap", f"a full snapshot at --limit-rate {SNAPSHOT_LIMIT}",
                "bytes charged / wall time", snapshots, SNAPSHOT_LIMIT, None,
                "every byte the source's bucket was charged over the snapshot's wall time; "
                "goal: never above the limit (+10 %); below it where the snapshot waits on "
                "other work"),
    ]


FLEET_LIMIT = RateLimit.parse("8M")
FLEET_HOST_LIMIT = RateLimit.parse("6M")
"""BW-fleet: each host's own limit; two at once (12 MiB/s) exceed the fleet's 8 MiB/s."""
FLEET_STREAM_BYTES = 40 * MiB


def _read_all(transport: Transport) -> int:
    with transport.open_process(f"head -c {FLEET_STREAM_BYTES} /dev/zero") as proc:
        proc.stdin.close()
        got = 0
        while chunk := proc.stdout.read(MiB):
            got += len(chunk)
        if proc.wait(timeout=300) != 0:
            raise RuntimeError(f"head on the source failed: {proc.stderr_text()[-300:]}")
    return got


def _write_all(transport: Transport) -> int:
    block = bytes(MiB)
    with transport.open_process("cat > /dev/null") as proc:
        for _ in range(FLEET_STREAM_BYTES // MiB):
            proc.stdin.write(block)
        if proc.wait(timeout=300) != 0:
            raise RuntimeError(f"cat on the target failed: {proc.stderr_text()[-300:]}")
    return FLEET_STREAM_BYTES


def fleet_rate(lab: Lab) -> float:
    """MiB/s moved by two hosts at once (a stream out of lab-source, one into lab-target,
    each through its own 6 MiB/s limit) under one fleet limit of 8 MiB/s: the bytes the
    fleet's bucket was charged over the wall time of both."""
    shared = SharedLimit(FLEET_LIMIT)
    opened = []
    for host in ("lab-source", "lab-target"):
        transport = open_transport(lab.ssh_spec(host), ConnectOptions(
            known_hosts=lab.known_hosts, identity=lab.key, limit_rate=FLEET_HOST_LIMIT,
            fleet_limit=shared.share(host)))
        transport.run("true", check=True)  # connected before the clock starts
        opened.append(transport)
    source, target = opened
    try:
        charged = shared.bucket.taken
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            moved = [pool.submit(_read_all, source), pool.submit(_write_all, target)]
            if sum(f.result() for f in moved) != 2 * FLEET_STREAM_BYTES:
                raise RuntimeError("a stream ended short")
        elapsed = time.perf_counter() - started
        return (shared.bucket.taken - charged) / elapsed / MiB
    finally:
        for transport in opened:
            transport.close()


def measure_fleet(lab: Lab, rounds: int) -> list[Figure]:
    fleet_rate(lab)  # warm-up
    rates = [fleet_rate(lab) for _ in range(rounds)]
    return [_figure("BW-fleet", f"two hosts at once under --fleet-limit-rate {FLEET_LIMIT}",
                    "achieved aggregate rate", rates, FLEET_LIMIT, 0.90,
                    f"{FLEET_STREAM_BYTES // MiB} MiB out of lab-source and "
                    f"{FLEET_STREAM_BYTES // MiB} MiB into lab-target at the same time, each "
                    f"through its own {FLEET_HOST_LIMIT} limit, both charged on one fleet "
                    "bucket; ratio is the bytes it was charged over the wall time / the fleet "
                    "limit, goal 0.90-1.10")]
