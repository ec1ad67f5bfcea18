"""The minimum proof a rebuild worked, used until the full verifier is wired in: the started
units are active, the source's ports listen, and each vhost answers by its Host header."""

from __future__ import annotations

import http.client
import ssl

from evacuate.inventory import from_json
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.transport.base import Transport


def basic_verify(manifest: SnapshotManifest, target: Transport, address: str,
                 units: tuple[str, ...]) -> tuple[bool, str, list[str]]:
    source = from_json(manifest.inventory)
    problems: list[str] = []
    if units:
        states = target.run(["systemctl", "is-active", *units], timeout=60).text.split()
        problems += [f"{u} is {s}" for u, s in zip(units, states, strict=False) if s != "active"]
    listening = target.run("ss -Htln", timeout=60).text
    ports = {int(line.split()[3].rsplit(":", 1)[1]) for line in listening.splitlines()
             if len(line.split()) > 3 and line.split()[3].rsplit(":", 1)[1].isdigit()}
    for listener in source.listeners:
        if listener.proto == "tcp" and listener.port not in ports:
            problems.append(f"port {listener.port} ({listener.unit}) does not listen")
    checked = 0
    for vhost in source.web:
        name = next((n for n in vhost.server_names if n and n != "_"), None)
        if name is None:
            continue
        tls = any("ssl" in item for item in vhost.listen)
        port = 443 if tls else 80
        try:
            if tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    address, port, timeout=10, context=context)
            else:
                conn = http.client.HTTPConnection(address, port, timeout=10)
            conn.request("GET", "/", headers={"Host": name})
            status = conn.getresponse().status
            conn.close()
        except OSError as error:
            problems.append(f"vhost {name}: {error}")
            continue
        checked += 1
        if status >= 400:
            problems.append(f"vhost {name} answers {status}")
    summary = (f"{len(units)} units active, {len(source.listeners)} listeners, {checked} vhosts"
               if not problems else "; ".join(problems[:5]))
    return not problems, summary, problems
