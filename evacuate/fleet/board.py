"""The live state of every host of a fleet run (which step, bytes moved, an ETA), written by
each host's thread and read by the fleet view."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from evacuate.fleet.model import FleetHost, Wave


@dataclass(frozen=True)
class HostLine:
    """One host as the view shows it now."""

    host: str
    target: str
    wave: str
    state: str  # waiting, running, ok, failed, skipped
    step: str  # the steps under way, in the plan's order
    bytes: int
    expected: int  # bytes the plan expects to move (0: unknown)
    eta: float | None  # seconds, when the rate so far says so


class HostProgress:
    """One host's progress; thread-safe. ``on_change`` is told of each new step or state
    (for the plain lines printed away from a terminal)."""

    def __init__(self, host: FleetHost, on_change: Callable[[HostLine], None]) -> None:
        self.host = host
        self._lock = threading.Lock()
        self._on_change = on_change
        self._state = "waiting"
        self._steps: tuple[str, ...] = ()
        self._bytes = self._expected = 0
        self._started: float | None = None

    def begin(self, expected: int = 0) -> None:
        with self._lock:
            self._state, self._started = "running", time.monotonic()
            self._expected = max(expected, 0)
        self._on_change(self.line())

    def expect(self, expected: int) -> None:
        with self._lock:
            self._expected = max(expected, 0)

    def step(self, *names: str) -> None:
        """The steps under way now (a run's snapshot and prepare go side by side)."""
        with self._lock:
            changed, self._steps = names != self._steps, names
        if changed:
            self._on_change(self.line())

    def advance(self, count: int) -> None:
        with self._lock:
            self._bytes += count

    def end(self, state: str) -> None:
        with self._lock:
            self._state = state
        self._on_change(self.line())

    @property
    def step_name(self) -> str:
        """The first step under way (the one whose error a failed run raised)."""
        with self._lock:
            return self._steps[0] if self._steps else ""

    @property
    def moved(self) -> int:
        with self._lock:
            return self._bytes

    def line(self) -> HostLine:
        with self._lock:
            eta = None
            if self._state == "running" and self._started is not None and self._bytes and \
                    self._expected > self._bytes:
                rate = self._bytes / max(time.monotonic() - self._started, 1e-3)
                eta = (self._expected - self._bytes) / rate
            return HostLine(self.host.name, self.host.target, self.host.wave, self._state,
                            ", ".join(self._steps), self._bytes, self._expected, eta)


class FleetBoard:
    """Every host's :class:`HostProgress`, in wave order."""

    def __init__(self, waves: tuple[Wave, ...],
                 on_change: Callable[[HostLine], None] = lambda _l: None) -> None:
        self.hosts = {h.name: HostProgress(h, on_change) for w in waves for h in w.hosts}

    def of(self, host: FleetHost) -> HostProgress:
        return self.hosts[host.name]

    def lines(self) -> list[HostLine]:
        return [p.line() for p in self.hosts.values()]
