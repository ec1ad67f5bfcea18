"""Reboot a host over its transport and wait until it has booted again.

:func:`reboot_and_wait` asks the host to reboot (``systemctl reboot``: the connection
dropping is expected), then polls it over fresh transports, with a deadline, until it
answers with a new boot id (``/proc/sys/kernel/random/boot_id``: a host still going down
answers with the old one), then waits for systemd to settle (``systemctl
is-system-running --wait``). A host that comes up *degraded* is a result (its failed units
are named), not a hang; a host that does not come back in time raises
:class:`RebootFailed`.

Which host may be rebooted is the caller's policy (never the source: see
``evacuate.actions.verify``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from evacuate.errors import EvacuateError, RemoteCommandError, TransportError
from evacuate.transport import Transport

DEFAULT_REBOOT_TIMEOUT = 300.0
"""Seconds a rebooted host has to answer with a new boot and settle."""

POLL_INTERVAL = 1.0
"""Seconds between two attempts to reach a host that is rebooting."""

BOOT_STATE = ("cat /etc/machine-id 2>/dev/null || echo; cat /proc/sys/kernel/random/boot_id; "
              "systemctl is-system-running 2>/dev/null || true")
SETTLED = ("running", "degraded")
FAILED_UNITS = "systemctl list-units --failed --no-legend --plain 2>/dev/null | awk '{print $1}'"


class RebootFailed(EvacuateError):
    """The host refused to reboot, or did not come back within the deadline."""


@dataclass(frozen=True)
class BootState:
    """One boot of one host, as it says itself: its machine id, the boot's id and systemd's
    state (``running``, ``degraded``, ``starting``...)."""

    machine_id: str
    boot_id: str
    system_state: str

    def same_system(self, other: BootState) -> bool:
        """Whether both were read from one running system (the same machine id and the
        same boot): a host reached under two names."""
        return bool(self.boot_id) and (self.machine_id, self.boot_id) == (
            other.machine_id, other.boot_id)


def parse_boot_state(text: str) -> BootState:
    """Parse :data:`BOOT_STATE`'s output (three lines; the last may be missing)."""
    lines = [line.strip() for line in text.splitlines()] + ["", "", ""]
    return BootState(lines[0], lines[1], lines[2] or "unknown")


def is_new_boot(before: BootState, after: BootState) -> bool:
    """Whether ``after`` is a later boot than ``before``: a boot id was read both times and
    it changed."""
    return bool(before.boot_id) and bool(after.boot_id) and before.boot_id != after.boot_id


def read_boot_state(transport: Transport, timeout: float = 30.0) -> BootState:
    """Ask ``transport``'s host for its :class:`BootState`. Raise TransportError or
    RemoteCommandError when it cannot be read."""
    state = parse_boot_state(transport.run(BOOT_STATE, timeout=timeout, check=True).text)
    if not state.boot_id:
        raise RebootFailed(f"{transport.name}: no boot id in /proc/sys/kernel/random/boot_id")
    return state


@dataclass(frozen=True)
class RebootOutcome:
    """What a reboot showed: the boots before and after, how long it took to answer again
    and to settle, systemd's state once settled (``running``, ``degraded``, or the state it
    was still in at the deadline) and the units that failed when it was not running."""

    before: BootState
    after: BootState
    seconds_to_answer: float
    seconds_to_settle: float
    system_state: str
    failed_units: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        return self.system_state in SETTLED


def reboot_and_wait(open_host: Callable[[], Transport], *,
                    timeout: float = DEFAULT_REBOOT_TIMEOUT,
                    progress: Callable[[str], None] | None = None) -> RebootOutcome:
    """Reboot the host that ``open_host`` reaches (each call opens a new transport), wait
    until it answers with a new boot id and systemd has settled, all within ``timeout``
    seconds from the reboot. Raise RebootFailed when it refuses to reboot or does not come
    back in time, TransportError when it cannot be reached before the reboot."""
    say = progress or (lambda _message: None)
    with open_host() as transport:
        name = transport.name
        before = read_boot_state(transport)
        say(f"rebooting {name} (boot {before.boot_id[:8]}, {before.system_state})")
        started = time.monotonic()
        _ask_reboot(transport)
    deadline = started + timeout
    after, last_error = None, "no answer"
    while after is None:
        if time.monotonic() >= deadline:
            raise RebootFailed(f"{name} did not come back within {timeout:g} s of the reboot "
                               f"(last: {last_error})",
                               hint="raise --reboot-timeout, or look at the host's console")
        try:
            with open_host() as transport:
                seen = read_boot_state(transport, timeout=min(30.0, _left(deadline)))
        except (TransportError, RemoteCommandError, RebootFailed) as error:
            last_error = str(error)
        else:
            if is_new_boot(before, seen):
                after = seen
                continue
            last_error = "still the boot before the reboot"
        time.sleep(min(POLL_INTERVAL, _left(deadline)))
    answered = time.monotonic() - started
    say(f"{name} is back after {answered:.1f} s (boot {after.boot_id[:8]}); waiting for "
        "systemd to finish booting")
    state, failed = _settle(open_host, deadline)
    return RebootOutcome(before, after, round(answered, 1),
                         round(time.monotonic() - started, 1), state, failed)


def _left(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


def _ask_reboot(transport: Transport) -> None:
    try:
        result = transport.run("systemctl reboot", timeout=60)
    except TransportError:
        return  # the connection dropped as the host went down: expected
    except RemoteCommandError:
        return  # timed out while going down: the polling decides
    if not result.ok:
        raise RebootFailed(f"{transport.name} refused to reboot: "
                           f"{result.error_text or f'exit status {result.exit_status}'}")


def _settle(open_host: Callable[[], Transport], deadline: float) -> tuple[str, tuple[str, ...]]:
    """systemd's state once it stops starting (or at the deadline), and the failed units
    when it is not running."""
    state = "unknown"
    while True:
        wait = int(_left(deadline))
        try:
            with open_host() as transport:
                result = transport.run(f"timeout {max(1, wait)} systemctl is-system-running "
                                       "--wait", timeout=wait + 10)
                if not result.text.strip():  # cut off at the deadline: the state it is in
                    result = transport.run("systemctl is-system-running", timeout=30)
                state = (result.text.strip().splitlines() or [state])[-1]
                failed: tuple[str, ...] = ()
                if state != "running":
                    failed = tuple(transport.run(FAILED_UNITS, timeout=30).text.split())
                if state in SETTLED or time.monotonic() >= deadline:
                    return state, failed
        except (TransportError, RemoteCommandError):
            if time.monotonic() >= deadline:
                return state, ()
        time.sleep(min(POLL_INTERVAL, _left(deadline)))
