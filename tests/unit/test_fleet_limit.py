"""The fleet-wide bandwidth limit (evacuate.transport.throttle.SharedLimit): real local
transports charged on one shared bucket as well as their own, on an injected clock (no test
waits: the clock moves only when a bucket sleeps); evacuate.yml's ``fleet_limit_rate`` and
``--fleet-limit-rate``; the estimate's choice between the host's limit and its share of the
fleet's."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.cli.common import make_context
from evacuate.cli.plan_cmds import limit_note
from evacuate.config.load import config_from_data
from evacuate.errors import ConfigError, UsageError
from evacuate.plan.estimate import assumed_limit, estimate_rebuild
from evacuate.transport import ConnectOptions, open_transport
from evacuate.transport.local import LocalTransport
from evacuate.transport.throttle import RateLimit, SharedLimit, ThrottledTransport
from tests.unit.test_throttle import FakeClock, bucket

MiB = 2**20
CHUNK = 256 * 1024


def _shared(rate: int, clock: FakeClock) -> SharedLimit:
    return SharedLimit(RateLimit(rate), clock=clock, sleep=clock.sleep)


def _host(clock: FakeClock, rate: int, shared: SharedLimit, name: str) -> ThrottledTransport:
    return ThrottledTransport(LocalTransport(), bucket(rate, clock, burst=1), shared.share(name))


def _move(transports: list[ThrottledTransport], folder: Path, total: int) -> None:
    """``total`` bytes put through the transports in turn, a chunk at a time (as two hosts'
    streams interleave)."""
    chunk = folder / "chunk"
    chunk.write_bytes(b"z" * CHUNK)
    for index in range(total // CHUNK):
        transports[index % len(transports)].put(chunk, str(folder / f"out-{index}"))


def test_two_hosts_sharing_a_fleet_limit_are_held_to_it_together(tmp_path: Path) -> None:
    """Each host alone may move 8 MiB/s; together they are held to the fleet's 1 MiB/s."""
    clock = FakeClock()
    fleet = _shared(MiB, clock)
    a, b = _host(clock, 8 * MiB, fleet, "a"), _host(clock, 8 * MiB, fleet, "b")
    _move([a, b], tmp_path, 8 * MiB)
    assert fleet.bucket.taken == 8 * MiB
    assert fleet.by_host() == {"a": 4 * MiB, "b": 4 * MiB}
    assert a.bucket is not None and a.bucket.taken == 4 * MiB
    # 8 MiB at the fleet's 1 MiB/s (less its first burst), not at the hosts' 16 MiB/s together
    assert clock.now - 1000.0 == pytest.approx(8.0, rel=0.02)


@pytest.mark.parametrize(("host_rate", "fleet_rate"), [(MiB, 4 * MiB), (4 * MiB, MiB)])
def test_the_stricter_of_the_hosts_and_the_fleets_limit_wins(
        tmp_path: Path, host_rate: int, fleet_rate: int) -> None:
    clock = FakeClock()
    fleet = _shared(fleet_rate, clock)
    _move([_host(clock, host_rate, fleet, "only")], tmp_path, 4 * MiB)
    assert clock.now - 1000.0 == pytest.approx(4.0, rel=0.02)  # 4 MiB at 1 MiB/s


def test_open_transport_charges_the_fleet_limit_with_or_without_a_host_limit() -> None:
    fleet = SharedLimit(RateLimit(MiB))
    options = ConnectOptions(fleet_limit=fleet.share(""))
    alone = open_transport("local", options)
    assert isinstance(alone, ThrottledTransport) and alone.bucket is None
    web1 = options.for_host("web1")
    assert web1.fleet_limit is not None and web1.fleet_limit.limit is fleet
    assert web1.fleet_limit.host == "web1"
    # becoming root keeps the share; a host limit adds its own bucket beside it
    assert web1.becoming(True).fleet_limit == web1.fleet_limit
    both = open_transport("local", ConnectOptions(limit_rate=RateLimit(5 * MiB),
                                                  fleet_limit=web1.fleet_limit))
    assert isinstance(both, ThrottledTransport)
    assert both.bucket is not None and both.shared is web1.fleet_limit
    both.run(["printf", "12345"], check=True)
    assert fleet.by_host() == {"web1": 5} and both.bucket.taken == 5
    assert isinstance(open_transport("local", ConnectOptions()), LocalTransport)
    assert ConnectOptions().for_host("web1") == ConnectOptions()


def test_the_config_takes_a_fleet_limit_and_refuses_a_bad_one(tmp_path: Path) -> None:
    config = config_from_data({"fleet_limit_rate": "50M", "limit_rate": "10M"},
                              tmp_path / "evacuate.yml")
    assert (config.fleet_limit_rate, config.limit_rate) == (RateLimit(50 * MiB),
                                                            RateLimit(10 * MiB))
    assert config_from_data({}, tmp_path / "evacuate.yml").fleet_limit_rate is None
    for bad, message in [("fast", "'fast' is not a rate"),
                         ("0", "'0' is below one byte per second")]:
        with pytest.raises(ConfigError) as refused:
            config_from_data({"fleet_limit_rate": bad}, tmp_path / "evacuate.yml")
        assert f"At 'fleet_limit_rate': {message}" in "\n".join(refused.value.problems)


def test_one_command_shares_one_fleet_limit_the_command_line_overrides(tmp_path: Path) -> None:
    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\nfleet_limit_rate: 2M\n")
    share = make_context(config, None).connect.fleet_limit
    assert share is not None and share.limit.rate == RateLimit(2 * MiB)  # a fleet of one too
    given = make_context(config, None, fleet_limit_rate="500k").connect.fleet_limit
    assert given is not None and given.limit.rate == RateLimit(500 * 1024)
    config.write_text(f"state_dir: {tmp_path / 'state'}\n")
    assert make_context(config, None).connect.fleet_limit is None
    with pytest.raises(UsageError, match="--fleet-limit-rate: 'fast' is not a rate"):
        make_context(config, None, fleet_limit_rate="fast")


def test_the_estimate_assumes_the_lower_of_the_host_limit_and_the_fleet_share() -> None:
    ten, fifty = RateLimit(10 * MiB), RateLimit(50 * MiB)
    assert assumed_limit(ten, fifty, 4) == (ten, "host")  # 12.5 MiB/s each: the host's holds
    assert assumed_limit(ten, fifty, 8) == (RateLimit(50 * MiB // 8), "fleet")
    assert assumed_limit(None, fifty, 2) == (RateLimit(25 * MiB), "fleet")
    assert assumed_limit(ten, None, 4) == (ten, "host")
    assert assumed_limit(None, None, 4) == (None, None)
    est = estimate_rebuild(file_bytes=100 * MiB, dump_bytes=0, packages_to_install=0,
                           snapshot_seconds=1, limit=ten, fleet_limit=RateLimit(4 * MiB),
                           concurrency=2)
    assert est.transfer_seconds == 50.0  # 100 MiB at 2 MiB/s, the fleet's share
    assert (est.limit_bytes_per_second, est.limit_assumed, est.fleet_limit_bytes_per_second,
            est.fleet_concurrency) == (2 * MiB, "fleet", 4 * MiB, 2)
    assert limit_note(est) == (" (at the fleet limit of 4M/s shared by 2 host(s) at once: "
                               "2M/s for this one)")
    alone = estimate_rebuild(file_bytes=100 * MiB, dump_bytes=0, packages_to_install=0,
                             snapshot_seconds=1, limit=ten)
    assert (alone.limit_assumed, limit_note(alone)) == ("host", " (at the limit of 10M/s per host)")
