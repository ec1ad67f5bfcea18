"""The HTTP answers of the source's containers: each TCP port a running container publishes
on the host is asked ``GET /`` on the source and on the target, from the controller, and
the answers must be the same (status, title, content). A port where the source does not
answer HTTP is left to the listener checks; when the source cannot be asked (it is gone,
or it is the target itself) the answer is *not verified*, never passed.

Narrower: containers on the host's network publish nothing; their ports are checked as
listeners only.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from evacuate.inventory import HostInventory
from evacuate.verify.containers import AREA, check_name
from evacuate.verify.model import Check, judged, not_verified
from evacuate.verify.web import Fetcher, default_fetcher, differences
from evacuate.verify.webclient import reachable

HOST_HEADER = "localhost"
"""Sent to both hosts alike: a container's app has no name of its own that evacuate knows."""


def published_ports(source: HostInventory) -> list[tuple[str, int]]:
    """(check name, host port) of each TCP port a running container publishes, once."""
    found: dict[int, str] = {}
    for container in source.containers.containers:
        if container.state != "running":
            continue
        for binding in container.published_ports:
            if binding.container_port.endswith("/udp") or not binding.host_port.isdigit():
                continue
            found.setdefault(int(binding.host_port), check_name(container))
    return [(name, port) for port, name in sorted(found.items())]


def check_container_answers(source: HostInventory, target_address: str, *,
                            source_address: str | None = None,
                            fetcher: Fetcher | None = None, parallel: int = 8) -> list[Check]:
    ports = published_ports(source)
    if not ports:
        return []
    get = fetcher or default_fetcher()
    live = source_address if source_address and source_address != target_address else None

    def one(item: tuple[str, int]) -> list[Check]:
        owner, port = item
        name = f"{owner} http :{port}"
        if live is None:
            return [not_verified(AREA, name, "the source cannot be asked: its HTTP answer on "
                                 "this port is not compared")]
        started = time.monotonic()
        if not reachable(live, port):
            return [not_verified(AREA, name, "the source does not answer on this port now: "
                                 "its HTTP answer is not compared")]
        reference = get(live, port, False, HOST_HEADER)
        if reference.status is None:
            return []  # not HTTP: the listener checks cover the port
        got = get(target_address, port, False, HOST_HEADER)
        duration = round(time.monotonic() - started, 3)
        if got.status is None:
            return [judged(False, AREA, name, reference.summary(), got.summary(),
                           "the target does not answer", duration)]
        problems = differences(reference, got, "the source's answer")
        return [judged(not problems, AREA, name, reference.summary(), got.summary(),
                       "; ".join(problems) or "same as the source's answer", duration)]

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(ports)))) as pool:
        return [check for group in pool.map(one, ports) for check in group]
