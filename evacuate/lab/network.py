"""The lab's private network: one bridge on the controller, one netns + veth per host.

Only these addresses (and loopback) are ever targets of lab traffic. Every
function here is idempotent so that ``lab down`` can clean up after a crash.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from evacuate.errors import LabError

NETNS_DIR = Path("/run/netns")


@dataclass(frozen=True)
class LabNetwork:
    """Addresses of one lab: 10.231.<index>.0/24, the bridge at .1."""

    lab_id: str
    index: int

    @property
    def bridge(self) -> str:
        return f"{self.lab_id}-br"[:15]

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"10.231.{self.index}.0/24")

    @property
    def gateway(self) -> str:
        return f"10.231.{self.index}.1"

    def address(self, host_number: int) -> str:
        return f"10.231.{self.index}.{host_number}"

    def netns(self, host: str) -> str:
        return f"{self.lab_id}-{host}"

    def veth(self, host: str) -> str:
        return f"{self.lab_id}-{host}"[:15]


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS``; raise LabError with its message when ``check`` and it fails."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc


def _link_exists(name: str) -> bool:
    return ip("link", "show", "dev", name, check=False).returncode == 0


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def ensure_bridge(net: LabNetwork) -> None:
    if not _link_exists(net.bridge):
        ip("link", "add", net.bridge, "type", "bridge")
    addr = f"{net.gateway}/{net.subnet.prefixlen}"
    if addr not in ip("-o", "addr", "show", "dev", net.bridge).stdout:
        ip("addr", "add", addr, "dev", net.bridge)
    ip("link", "set", net.bridge, "up")


def remove_bridge(net: LabNetwork) -> None:
    if _link_exists(net.bridge):
        ip("link", "del", net.bridge, check=False)


def attach_host(net: LabNetwork, host: str, address: str) -> str:
    """Create the host's netns and veth (host0 inside, ``address``/24); return the netns name."""
    ns = net.netns(host)
    if not netns_exists(ns):
        ip("netns", "add", ns)
    veth = net.veth(host)
    if not _link_exists(veth):
        ip("link", "add", veth, "type", "veth", "peer", "name", "host0", "netns", ns)
    ip("link", "set", veth, "master", net.bridge)
    ip("link", "set", veth, "up")
    if f"{address}/" not in ip("-n", ns, "-o", "addr", "show", "dev", "host0").stdout:
        ip("-n", ns, "addr", "add", f"{address}/{net.subnet.prefixlen}", "dev", "host0")
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "link", "set", "host0", "up")
    if "default" not in ip("-n", ns, "route", "show").stdout:
        ip("-n", ns, "route", "add", "default", "via", net.gateway)
    return ns


def set_link(net: LabNetwork, host: str, up: bool) -> None:
    """Take a host's link down (a network drop, for fault tests) or bring it back up."""
    ip("link", "set", net.veth(host), "up" if up else "down")


def detach_host(net: LabNetwork, host: str) -> None:
    """Remove the host's veth and netns (idempotent)."""
    veth = net.veth(host)
    if _link_exists(veth):
        ip("link", "del", veth, check=False)
    ns = net.netns(host)
    if netns_exists(ns):
        ip("netns", "del", ns, check=False)


def lab_namespaces(lab_id: str) -> list[str]:
    """Names of every netns that belongs to ``lab_id`` (also ones a crash left behind)."""
    if not NETNS_DIR.exists():
        return []
    return sorted(p.name[len(lab_id) + 1:] for p in NETNS_DIR.iterdir()
                  if p.name.startswith(f"{lab_id}-"))
