"""Bandwidth limits (evacuate.transport.throttle): the token bucket on an injected clock, and
a real snapshot and restore through a throttled transport charging every byte to it. No test
waits: the clock only moves when the bucket sleeps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evacuate.config.load import config_from_data
from evacuate.errors import ConfigError
from evacuate.plan.estimate import THROUGHPUT, estimate_rebuild
from evacuate.snapshot.files import snapshot_tree
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.restore import restore_tree
from evacuate.snapshot.store import LocalStore
from evacuate.snapshot.store.blobs import BlobStore
from evacuate.transport import ConnectOptions, open_transport
from evacuate.transport.local import LocalTransport
from evacuate.transport.throttle import (
    BURST,
    RateLimit,
    ThrottledTransport,
    TokenBucket,
)

MiB = 2**20


class FakeClock:
    """A clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def bucket(rate: int, clock: FakeClock, burst: int = BURST) -> TokenBucket:
    return TokenBucket(RateLimit(rate), burst=burst, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(("text", "rate"), [
    ("500k", 500 * 1024), ("10M", 10 * MiB), ("1.5M", int(1.5 * MiB)), ("2G", 2 * 1024**3),
    ("65536", 65536), ("10MB", 10 * MiB), ("10MiB/s", 10 * MiB), (" 3k ", 3072),
])
def test_rates_parse_like_curls(text: str, rate: int) -> None:
    assert RateLimit.parse(text).bytes_per_second == rate


@pytest.mark.parametrize("text", ["", "fast", "-1M", "10 T", "0", "0.1", "1M2", "M"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"rate|byte"):
        RateLimit.parse(text)


def test_a_rate_prints_in_its_unit() -> None:
    assert str(RateLimit(10 * MiB)) == "10M/s"
    assert str(RateLimit(500 * 1024)) == "500k/s"
    assert str(RateLimit(100)) == "100/s"


def test_the_bucket_holds_the_rate_over_many_chunks() -> None:
    clock = FakeClock()
    limiter = bucket(MiB, clock)
    for _ in range(160):  # 10 MiB in 64 KiB chunks
        limiter.take(64 * 1024)
    # the first burst is free, everything after it takes its time at the rate
    assert clock.slept == pytest.approx((10 * MiB - BURST) / MiB)
    assert limiter.taken == 10 * MiB


def test_an_idle_bucket_refills_only_up_to_its_burst() -> None:
    clock = FakeClock()
    limiter = bucket(MiB, clock, burst=64 * 1024)
    clock.now += 3600  # an hour without traffic earns no hour of full speed
    limiter.take(MiB)
    assert clock.slept == pytest.approx((MiB - 64 * 1024) / MiB)


def test_two_streams_of_one_host_share_its_rate() -> None:
    clock = FakeClock()
    limiter = bucket(MiB, clock, burst=1)
    for _ in range(8):  # a dump and a file tree, interleaved
        limiter.take(64 * 1024)
        limiter.take(64 * 1024)
    assert clock.slept == pytest.approx(1.0, abs=1e-3)  # 1 MiB together, at 1 MiB/s


def test_a_large_take_goes_into_debt_that_the_next_one_pays() -> None:
    clock = FakeClock()
    limiter = bucket(1000, clock, burst=1)
    assert limiter.take(5000) == pytest.approx(5.0, abs=0.01)
    assert limiter.take(0) == 0.0


def throttled_local(clock: FakeClock, rate: int) -> ThrottledTransport:
    return ThrottledTransport(LocalTransport(), bucket(rate, clock, burst=1))


def test_a_streamed_process_is_charged_both_ways() -> None:
    clock = FakeClock()
    transport = throttled_local(clock, 4 * MiB)
    payload = os.urandom(2 * MiB)
    with transport.open_process("cat >/dev/null; printf %s done") as proc:
        proc.stdin.write(payload)
        proc.stdin.close()
        out = proc.stdout.read()
        assert proc.wait(timeout=30) == 0
    assert out == b"done"
    assert transport.bucket.taken == 2 * MiB + 4
    assert clock.slept == pytest.approx((2 * MiB + 4) / (4 * MiB), abs=1e-3)


def test_what_a_process_wrote_arrives_whole_when_wait_closes_stdin(tmp_path: Path) -> None:
    clock = FakeClock()
    transport = throttled_local(clock, 64 * MiB)
    target = tmp_path / "out"
    with transport.open_process(["sh", "-c", 'cat > "$1"', "sh", str(target)]) as proc:
        proc.stdin.write(b"x" * 100_001)  # buffered here: wait() must flush it
        assert proc.wait(timeout=30) == 0
    assert target.stat().st_size == 100_001


def test_commands_and_files_are_charged(tmp_path: Path) -> None:
    clock = FakeClock()
    transport = throttled_local(clock, MiB)
    result = transport.run(["head", "-c", "3000", "/dev/zero"], check=True)
    assert len(result.stdout) == 3000
    source = tmp_path / "a"
    source.write_bytes(b"y" * 5000)
    transport.put(source, str(tmp_path / "b"))
    transport.get(str(tmp_path / "b"), tmp_path / "c")
    assert transport.bucket.taken == 3000 + 5000 + 5000


def test_open_transport_throttles_only_with_a_limit() -> None:
    plain = open_transport("local")
    assert isinstance(plain, LocalTransport)
    limited = open_transport("local", ConnectOptions(limit_rate=RateLimit(MiB)))
    assert isinstance(limited, ThrottledTransport)
    assert limited.bucket.rate == RateLimit(MiB)
    assert limited.name == plain.name
    # becoming root keeps the limit
    assert ConnectOptions(limit_rate=RateLimit(5)).becoming(True).limit_rate == RateLimit(5)


def test_a_snapshot_and_a_restore_through_a_limit_charge_every_byte(tmp_path: Path) -> None:
    source, dest = tmp_path / "source", tmp_path / "restored"
    (source / "data").mkdir(parents=True)
    (source / "data" / "big.bin").write_bytes(os.urandom(3 * MiB))
    (source / "data" / "small.txt").write_text("hello\n")
    blobs = BlobStore(LocalStore(tmp_path / "store"), None)
    clock = FakeClock()
    reading = throttled_local(clock, 10 * MiB)
    tree = snapshot_tree(reading, blobs, [str(source)], ())
    assert reading.bucket.taken > 3 * MiB  # the listing and the tar stream of the files
    assert clock.slept == pytest.approx(reading.bucket.taken / (10 * MiB), abs=1e-3)

    manifest = SnapshotManifest(
        id="limited", host="controller", created="2026-01-01T00:00:00Z", tool_version="test",
        roots=(str(source),), excludes=(), files=tuple(tree.entries), dumps=(), inventory={},
        totals=Totals(files=len(tree.entries)))
    writing = throttled_local(FakeClock(), 10 * MiB)
    restore_tree(manifest, blobs, writing, str(dest))
    restored = dest / source.relative_to("/") / "data" / "big.bin"
    assert restored.read_bytes() == (source / "data" / "big.bin").read_bytes()
    assert writing.bucket.taken > 3 * MiB  # the tar stream into the target


def test_the_estimate_moves_at_the_limit() -> None:
    free = estimate_rebuild(file_bytes=600 * MiB, dump_bytes=0, packages_to_install=0,
                            snapshot_seconds=10)
    assert free.transfer_seconds == pytest.approx(600 * MiB / THROUGHPUT, abs=0.1)
    assert free.limit_bytes_per_second is None
    slow = estimate_rebuild(file_bytes=600 * MiB, dump_bytes=0, packages_to_install=0,
                            snapshot_seconds=10, limit=RateLimit.parse("1M"))
    assert slow.transfer_seconds == 600.0
    assert slow.total_seconds - free.total_seconds == pytest.approx(600 - free.transfer_seconds,
                                                                    abs=0.2)
    assert slow.limit_bytes_per_second == MiB
    fast = estimate_rebuild(file_bytes=600 * MiB, dump_bytes=0, packages_to_install=0,
                            snapshot_seconds=10, limit=RateLimit.parse("1G"))
    assert fast.transfer_seconds == free.transfer_seconds  # the link is slower than the limit
    dumps = estimate_rebuild(file_bytes=0, dump_bytes=10 * MiB, packages_to_install=0,
                             snapshot_seconds=10, limit=RateLimit.parse("1M"))
    assert dumps.cutover_downtime_seconds == 5 + 5 + 20  # the final dumps leave and enter


def test_the_config_takes_a_fleet_wide_limit(tmp_path: Path) -> None:
    config = config_from_data({"limit_rate": "10M"}, tmp_path / "evacuate.yml")
    assert config.limit_rate == RateLimit(10 * MiB)
    assert config.ssh.connect_options(limit_rate=config.limit_rate).limit_rate == config.limit_rate
    with pytest.raises(ConfigError) as bad:
        config_from_data({"limit_rate": "fast"}, tmp_path / "evacuate.yml")
    assert "At 'limit_rate': 'fast' is not a rate" in "\n".join(bad.value.problems)


def test_the_command_line_limit_overrides_the_configs(tmp_path: Path) -> None:
    from evacuate.cli.common import make_context
    from evacuate.errors import UsageError

    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\nlimit_rate: 2M\n")
    assert make_context(config, None).connect.limit_rate == RateLimit(2 * MiB)
    assert make_context(config, None, limit_rate="500k").connect.limit_rate == \
        RateLimit(500 * 1024)
    config.write_text(f"state_dir: {tmp_path / 'state'}\n")
    assert make_context(config, None).connect.limit_rate is None
    with pytest.raises(UsageError, match="--limit-rate"):
        make_context(config, None, limit_rate="fast")
