"""The fleet's values: which hosts move in which waves, and what became of each host.

Partial failure is data: every host chosen ends as one :class:`HostResult` (ok, failed, or
skipped because an earlier wave failed), never as an exception that hides the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from evacuate.config.model import DEFAULT_CONCURRENCY, Config, WaveConfig
from evacuate.errors import UsageError

REST = "rest"
"""The wave of the hosts that are in no wave of evacuate.yml (moved last by --all)."""


@dataclass(frozen=True)
class FleetHost:
    """A source of the fleet, the target it is rebuilt on and the wave it moves in."""

    name: str
    target: str
    wave: str


@dataclass(frozen=True)
class Wave:
    name: str
    hosts: tuple[FleetHost, ...]
    concurrency: int = DEFAULT_CONCURRENCY


class HostStatus(StrEnum):
    OK = "ok"  # planned; or run and verified (now or, per its journal, before)
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: an earlier wave had a failure


@dataclass(frozen=True)
class HostResult:
    """What became of one host: ``step`` is the step that failed (or the last one reached),
    ``error`` its one line; ``bytes`` moved; ``done_before``: its journal said it was done
    and verified already, so it was not run again; ``cut_over``: it was cut over (by this
    run, or before, per its journal) after its run verified."""

    host: str
    target: str
    wave: str
    status: HostStatus
    step: str = ""
    error: str = ""
    bytes: int = 0
    seconds: float = 0.0
    detail: str = ""
    done_before: bool = False
    cut_over: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"status": str(self.status), "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class LimitUse:
    """The fleet-wide bandwidth limit of a run and the bytes charged on its one bucket: in
    all, and by host."""

    bytes_per_second: int
    charged: int
    by_host: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"bytes_per_second": self.bytes_per_second, "charged_bytes": self.charged,
                "by_host": dict(self.by_host)}


@dataclass(frozen=True)
class FleetResult:
    """Every host's result, in wave order; ``stopped_after``: the wave whose failure kept
    the later waves from starting (None: none did); ``fleet_limit``: the fleet-wide limit's
    use (None: there was none)."""

    command: str
    waves: tuple[str, ...]
    results: tuple[HostResult, ...]
    stopped_after: str | None = None
    fleet_limit: LimitUse | None = None

    @property
    def ok(self) -> bool:
        return all(r.status is HostStatus.OK for r in self.results)

    def of(self, status: HostStatus) -> list[HostResult]:
        return [r for r in self.results if r.status is status]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "command": self.command, "waves": list(self.waves),
                "stopped_after": self.stopped_after,
                "counts": {str(s): len(self.of(s)) for s in HostStatus},
                "cut_over": [r.host for r in self.results if r.cut_over],
                "fleet_limit": self.fleet_limit.to_json() if self.fleet_limit else None,
                "hosts": [r.to_json() for r in self.results]}


def select_waves(config: Config | None, *, everything: bool = False, wave: str | None = None,
                 names: tuple[str, ...] = ()) -> tuple[Wave, ...]:
    """The waves to move: ``everything`` (every wave of evacuate.yml in order, then the
    hosts in no wave as the wave ``rest``; without ``waves:`` one wave ``rest`` of every
    host), one ``wave`` by name, or the hosts and groups ``names`` (in their waves' order,
    each wave keeping only them). Raise UsageError for an unknown name, a host without a
    target or an empty choice."""
    if sum((everything, wave is not None, bool(names))) != 1:
        raise UsageError("choose the hosts: --all, --wave NAME, or host and group names")
    if config is None or not config.hosts:
        raise UsageError("a fleet needs hosts in evacuate.yml", hint="run 'evacuate init'")
    configured = [*config.waves]
    placed = {h for w in configured for h in w.hosts}
    rest = tuple(h for h in config.hosts if h not in placed)
    if rest:
        configured.append(WaveConfig(REST, rest))
    if wave is not None:
        chosen = [w for w in configured if w.name == wave]
        if not chosen:
            known = ", ".join(w.name for w in configured)
            raise UsageError(f"no wave named '{wave}' (waves: {known})")
    elif everything:
        chosen = configured
    else:
        wanted: set[str] = set()
        for name in names:
            if name not in config.hosts and name not in config.groups:
                raise UsageError(f"no host or group named '{name}' in {config.path.name}")
            wanted.update(config.members(name))
        chosen = [WaveConfig(w.name, tuple(h for h in w.hosts if h in wanted), w.concurrency)
                  for w in configured]
    waves = tuple(Wave(w.name, tuple(FleetHost(h, _target(config, h), w.name) for h in w.hosts),
                       w.concurrency) for w in chosen if w.hosts)
    if not waves:
        raise UsageError("no hosts chosen")
    return waves


def _target(config: Config, host: str) -> str:
    target = config.hosts[host].target
    if target is None:
        raise UsageError(f"host '{host}' has no target",
                         hint=f"set hosts.{host}.target in {config.path.name}")
    return target
