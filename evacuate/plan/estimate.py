"""The plan's time estimate: how long the data takes to move and the rebuild to run, at the
link's assumed throughput or at the bandwidth limit, whichever is lower: the host's own
limit, or its share of the fleet-wide one (that limit over the hosts moving at once)."""

from __future__ import annotations

from evacuate.plan.model import Estimate
from evacuate.transport.throttle import RateLimit

THROUGHPUT = 60e6  # bytes/s assumed for store → target streams on a good link
RESTORE_RATE = 25e6  # bytes/s assumed for loading dumps


def assumed_limit(limit: RateLimit | None, fleet_limit: RateLimit | None,
                  concurrency: int) -> tuple[RateLimit | None, str | None]:
    """The limit one host moves at: the lower of its own ``limit`` and its share of
    ``fleet_limit`` (divided among the ``concurrency`` hosts moving at once), and which of
    the two that is ("host", "fleet"; None: neither is set)."""
    share = None if fleet_limit is None else \
        RateLimit(max(1, fleet_limit.bytes_per_second // max(1, concurrency)))
    if share is not None and (limit is None or share.bytes_per_second < limit.bytes_per_second):
        return share, "fleet"
    return limit, "host" if limit is not None else None


def estimate_rebuild(*, file_bytes: int, dump_bytes: int, packages_to_install: int,
                     snapshot_seconds: float, limit: RateLimit | None = None,
                     fleet_limit: RateLimit | None = None, concurrency: int = 1) -> Estimate:
    """Given what moves (``file_bytes`` of files, ``dump_bytes`` of dumps), how many packages
    the target installs, how long the source's last snapshot took, the bandwidth ``limit``
    per host and the ``fleet_limit`` shared by the ``concurrency`` hosts of its wave (None:
    unlimited), return the estimate. Under a limit (see :func:`assumed_limit`) the data's
    transfer runs at it, and a cutover's final dumps leave the source and enter the target
    at it too."""
    limit, assumed = assumed_limit(limit, fleet_limit, concurrency)
    rate = THROUGHPUT if limit is None else min(THROUGHPUT, float(limit.bytes_per_second))
    transfer = file_bytes + dump_bytes
    transfer_seconds = transfer / rate
    load = dump_bytes / min(RESTORE_RATE, rate)
    packages = 10 + 0.6 * packages_to_install
    limited_dumps = 0.0 if limit is None else 2 * dump_bytes / rate
    return Estimate(
        transfer_bytes=transfer, transfer_seconds=round(transfer_seconds, 1),
        packages_seconds=round(packages, 1),
        total_seconds=round(25 + packages + transfer_seconds + load, 1),
        cutover_downtime_seconds=round(5 + snapshot_seconds / 2 + limited_dumps, 1),
        limit_bytes_per_second=limit.bytes_per_second if limit is not None else None,
        limit_assumed=assumed,
        fleet_limit_bytes_per_second=fleet_limit.bytes_per_second if fleet_limit else None,
        fleet_concurrency=max(1, concurrency))
