"""Checks that ask the target to answer: the ports of locally written services accept a
TCP connection, and the checks evacuate.yml's ``verify`` section adds (URLs, SQL queries,
commands)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from evacuate.config.model import CommandCheck, SQLCheck, URLCheck
from evacuate.engines import engine_for
from evacuate.errors import EvacuateError
from evacuate.inventory.model import HostInventory
from evacuate.transport.base import Transport
from evacuate.verify.model import Check, judged
from evacuate.verify.webclient import fetch, reachable

LOOPBACK = ("127.", "::1", "localhost")


@dataclass(frozen=True)
class PortProbe:
    unit: str
    port: int
    local_only: bool  # bound to loopback: probed on the target itself

    @property
    def name(self) -> str:
        return f"{self.unit} tcp/{self.port}"


def custom_ports(source: HostInventory) -> list[PortProbe]:
    """TCP ports the source's locally written services listened on."""
    local_units = {s.name for s in source.services if s.locally_written}
    found: dict[tuple[str, int], bool] = {}
    for listener in source.listeners:
        if listener.proto.startswith("tcp") and listener.unit in local_units:
            key = (listener.unit, listener.port)
            only_local = listener.address.startswith(LOOPBACK)
            found[key] = found.get(key, True) and only_local
    return [PortProbe(unit, port, local) for (unit, port), local in sorted(found.items())]


def loopback_script(probes: Sequence[PortProbe]) -> str:
    """sh program printing ``<port> <0|1>`` per probe (1: a connection succeeded); uses
    bash's /dev/tcp where bash exists, else python3."""
    lines = []
    for probe in probes:
        port = int(probe.port)
        lines.append(
            f"if command -v bash >/dev/null; then timeout 3 bash -c '</dev/tcp/127.0.0.1/{port}' "
            f"2>/dev/null; else timeout 3 python3 -c 'import socket; socket.create_connection("
            f"(\"127.0.0.1\", {port}), 2)' 2>/dev/null; fi && echo '{port} 1' || echo '{port} 0'")
    return "\n".join(lines) + "\n"


def check_custom_ports(source: HostInventory, target: Transport,
                       target_address: str) -> list[Check]:
    """Each listening port of a locally written service accepts a TCP connection on the
    target (from the controller; on the target itself for loopback-only ports)."""
    probes = custom_ports(source)
    checks = []
    local = [p for p in probes if p.local_only]
    answered: dict[int, bool] = {}
    if local:
        text = target.run_script(loopback_script(local), timeout=60).text
        answered = {int(a): b == "1" for a, _, b in (line.partition(" ")
                                                     for line in text.split("\n") if line)}
    for probe in probes:
        started = time.monotonic()
        ok = answered.get(probe.port, False) if probe.local_only else \
            reachable(target_address, probe.port)
        where = "on the target's loopback" if probe.local_only else f"at {target_address}"
        checks.append(judged(ok, "answers", probe.name, "accepts a TCP connection",
                             "accepts" if ok else "refused or silent",
                             "" if ok else f"nothing answers on port {probe.port} {where}",
                             round(time.monotonic() - started, 3)))
    return checks


def check_url(check: URLCheck, target_address: str, timeout: float = 10.0) -> Check:
    """Fetch a configured URL from the target's address (its host name as Host header)."""
    started = time.monotonic()
    url = urlsplit(check.url)
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    host = check.host_header or url.hostname or target_address
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    got = fetch(target_address, port, tls=tls, host=host, path=path, timeout=timeout)
    problems = []
    if got.status != check.expect_status:
        problems.append(f"status {got.status if got.status is not None else got.error}")
    if check.expect_text is not None and check.expect_text.encode() not in got.body:
        problems.append(f"body lacks {check.expect_text!r}")
    expected = f"{check.expect_status}" + (f" containing {check.expect_text!r}"
                                           if check.expect_text else "")
    return judged(not problems, "custom", check.url, expected, got.summary(),
                  "; ".join(problems), round(time.monotonic() - started, 3))


def sql_command(check: SQLCheck) -> str:
    engine = engine_for(check.engine)
    if engine is None:
        raise EvacuateError(f"verify: no database engine {check.engine!r}")
    return engine.query_command(check.database, check.query)


def check_sql(check: SQLCheck, target: Transport) -> Check:
    """Run a configured query on the target; compare its output with ``expect``."""
    started = time.monotonic()
    result = target.run(sql_command(check), timeout=300)
    output = result.text.strip()
    name = f"{check.engine}/{check.database}: {check.query}"[:120]
    if not result.ok:
        return judged(False, "custom", name, check.expect or "success", "error",
                      (result.error_text.strip().splitlines() or ["failed"])[-1][:200],
                      round(time.monotonic() - started, 3))
    ok = check.expect is None or output == check.expect.strip()
    return judged(ok, "custom", name, check.expect if check.expect is not None else "success",
                  output[:200], "" if ok else "query result differs",
                  round(time.monotonic() - started, 3))


def check_command(check: CommandCheck, target: Transport) -> Check:
    """Run a configured command on the target: it must exit 0 (and print
    ``expect_output`` when given)."""
    started = time.monotonic()
    result = target.run(["sh", "-c", check.command], timeout=300)
    problems = []
    if not result.ok:
        problems.append(f"exit status {result.exit_status}")
    if check.expect_output is not None and check.expect_output not in result.text:
        problems.append(f"output lacks {check.expect_output!r}")
    expected = "exit 0" + (f", output containing {check.expect_output!r}"
                           if check.expect_output else "")
    return judged(not problems, "custom", check.command[:120], expected,
                  f"exit {result.exit_status}: {result.text.strip()[:160]}",
                  "; ".join(problems), round(time.monotonic() - started, 3))
