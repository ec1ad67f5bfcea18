"""Web checks: each virtual host of the source answers on the target's address as it did.

The reference, best first: the source's live answer (when the source is reachable and is
not the target itself); else the page the snapshot holds (the docroot's index file) for a
target that answers 2xx; else any 2xx/3xx status. For TLS the served certificate's subject
and names must be those of the source's certificate (it is not verified: a rebuilt host
answers under a new address, and lab certificates are self-signed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from evacuate.inventory.model import Certificate, HostInventory, VHost
from evacuate.verify.model import Check, judged
from evacuate.verify.webclient import (
    WebAnswer,
    body_digest,
    fetch,
    normalize_name,
    page_title,
    reachable,
)

INDEX_FILES = ("index.html", "index.htm")

Fetcher = Callable[[str, int, bool, str], WebAnswer]
"""(address, port, tls, host header) → answer; injectable for tests."""


@dataclass(frozen=True)
class Probe:
    """One vhost endpoint to ask: the name sent as Host/SNI, the port and scheme."""

    vhost: VHost
    host: str
    port: int
    tls: bool

    @property
    def name(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"


def _port_of(listen: str) -> tuple[int, bool] | None:
    words = listen.split()
    if not words:
        return None
    where = words[0]
    port_text = where.rsplit(":", 1)[-1] if (":" in where and not where.endswith("]")) else where
    if where.startswith("unix:"):
        return None
    port = int(port_text) if port_text.isdigit() else 80  # "listen 127.0.0.1;" means :80
    return port, "ssl" in words or "quic" in words or port == 443


def probes_for(source: HostInventory) -> list[Probe]:
    """One probe per vhost and distinct port (IPv4 and IPv6 listens of a port are one)."""
    probes = []
    for vhost in source.web:
        names = [n for n in vhost.server_names if n not in ("_", "") and "*" not in n
                 and not n.startswith("~")]
        host = names[0] if names else "localhost"
        ports = {p for p in (_port_of(listen) for listen in vhost.listen) if p is not None}
        for port, tls in sorted(ports or {(80, False)}):
            probes.append(Probe(vhost, host, port, tls))
    return probes


@dataclass(frozen=True)
class SnapshotPage:
    """The index page a vhost's docroot held in the snapshot."""

    title: str
    body_hash: str


def differences(reference: WebAnswer, got: WebAnswer, whose: str) -> list[str]:
    """How ``got`` differs from the live ``reference`` answer (``whose`` names it)."""
    problems = []
    if reference.status != got.status:
        problems.append(f"status {reference.status} → {got.status}")
    if reference.title != got.title:
        problems.append("title differs")
    if reference.body_hash != got.body_hash:
        problems.append(f"content differs from {whose}")
    return problems


def _compare(probe: Probe, got: WebAnswer, reference: WebAnswer | None,
             page: SnapshotPage | None, duration: float) -> Check:
    name = probe.name
    if got.status is None:
        return judged(False, "web", name, reference.summary() if reference else "2xx/3xx",
                      got.summary(), "the target does not answer", duration)
    if reference is not None:
        problems = differences(reference, got, "the source's page")
        return judged(not problems, "web", name, reference.summary(), got.summary(),
                      "; ".join(problems) or "same as the source's live answer", duration)
    if page is not None and 200 <= got.status < 300:
        problems = []
        if page.title != got.title:
            problems.append(f"title “{page.title}” → “{got.title}”")
        if page.body_hash != got.body_hash:
            problems.append("content differs from the snapshot's page")
        expected = f"200 “{page.title}” body {page.body_hash}"
        return judged(not problems, "web", name, expected, got.summary(),
                      "; ".join(problems) or "same page as in the snapshot", duration)
    ok = 200 <= got.status < 400
    return judged(ok, "web", name, "2xx/3xx", got.summary(),
                  "" if ok else f"HTTP status {got.status}", duration)


def _cert_check(probe: Probe, got: WebAnswer, certs: dict[str, Certificate]) -> Check | None:
    cert = certs.get(probe.vhost.tls_cert)
    if not probe.tls or cert is None or got.status is None:
        return None
    want = (normalize_name(cert.subject), tuple(sorted(cert.sans)))
    have = (got.cert_subject, got.cert_sans)
    return judged(want == have, "web", f"{probe.host}:{probe.port} certificate",
                  f"{want[0]} {' '.join(want[1])}", f"{have[0]} {' '.join(have[1])}",
                  "" if want == have else "the served certificate is not the source's")


def snapshot_page(vhost: VHost, read: Callable[[str], bytes | None] | None) -> SnapshotPage | None:
    """The docroot index page as the snapshot holds it (``read`` maps a path to its
    content, None when the snapshot has no such file)."""
    if read is None or not vhost.docroot:
        return None
    for index in INDEX_FILES:
        body = read(f"{vhost.docroot.rstrip('/')}/{index}")
        if body is not None:
            return SnapshotPage(page_title(body), body_digest(body))
    return None


def default_fetcher(timeout: float = 10.0) -> Fetcher:
    def fetcher(address: str, port: int, tls: bool, host: str) -> WebAnswer:
        return fetch(address, port, tls=tls, host=host, timeout=timeout)
    return fetcher


def check_web(source: HostInventory, target_address: str, *, source_address: str | None = None,
              read: Callable[[str], bytes | None] | None = None,
              fetcher: Fetcher | None = None, parallel: int = 8) -> list[Check]:
    """Ask the target (and the source, when reachable and distinct) for each vhost's front
    page from the controller; return one check per vhost endpoint, plus one per TLS
    certificate."""
    probes = probes_for(source)
    if not probes:
        return []
    get = fetcher or default_fetcher()
    certs = {c.path: c for c in source.certificates}
    live_source = source_address if source_address and source_address != target_address else None

    def one(probe: Probe) -> list[Check]:
        started = time.monotonic()
        reference = None
        if live_source and reachable(live_source, probe.port):
            answer = get(live_source, probe.port, probe.tls, probe.host)
            reference = answer if answer.status is not None else None
        page = snapshot_page(probe.vhost, read) if reference is None else None
        got = get(target_address, probe.port, probe.tls, probe.host)
        checks = [_compare(probe, got, reference, page, round(time.monotonic() - started, 3))]
        cert = _cert_check(probe, got, certs)
        return checks + ([cert] if cert else [])

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(probes)))) as pool:
        results: Sequence[list[Check]] = list(pool.map(one, probes))
    return [check for group in results for check in group]
