"""Bandwidth limits: the one place where streams to and from a host are throttled.

A :class:`RateLimit` (``--limit-rate 10M``, evacuate.yml's ``limit_rate``) travels in
:class:`~evacuate.transport.options.ConnectOptions`; :func:`limited` wraps the transport
:func:`~evacuate.transport.open_transport` made in a :class:`ThrottledTransport`, which
charges one :class:`TokenBucket` per host for every byte that crosses it: a streamed
process's stdin and stdout (tar, dumps, loads, listings), files put and got, and commands'
input and output. Everything above the transport (snapshot, run, restore, cutover) gets the
limit without knowing it.

A fleet-wide limit (``--fleet-limit-rate``, evacuate.yml's ``fleet_limit_rate``) is one
:class:`SharedLimit` of the whole process: each host's transports are charged on its bucket
too (a :class:`LimitShare`, which also counts the bytes of its host), after their own
bucket, so the stricter of the two holds the stream.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from evacuate.transport.base import Command, CommandResult, RemoteProcess, Transport

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:/s)?", re.IGNORECASE)
BURST = 64 * 1024
"""Bytes a bucket may hold when it has been idle (one stream chunk)."""


@dataclass(frozen=True)
class RateLimit:
    """A bandwidth limit in bytes per second (at least 1)."""

    bytes_per_second: int

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Given ``500k``, ``10M``, ``1.5M``, ``2G`` or ``65536`` (bytes per second; k, M
        and G are powers of 1024, as curl's and rsync's limits; a trailing ``B``, ``iB`` or
        ``/s`` is allowed), return the limit; raise ValueError for anything else."""
        match = _RATE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{text!r} is not a rate like 500k, 10M or 1.5M (bytes per second)")
        rate = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
        if rate < 1:
            raise ValueError(f"{text!r} is below one byte per second")
        return cls(rate)

    def __str__(self) -> str:
        for unit, size in (("G", 1024**3), ("M", 1024**2), ("k", 1024)):
            if self.bytes_per_second >= size:
                return f"{self.bytes_per_second / size:.3g}{unit}/s"
        return f"{self.bytes_per_second}/s"


class TokenBucket:
    """Tokens (bytes) refill at ``rate`` per second up to ``burst``; :meth:`take` waits
    until the bytes taken so far fit the rate. Thread-safe: streams of one host running
    at once (the dumps beside the files) share their host's rate. ``clock`` and ``sleep``
    are injectable so tests run without waiting."""

    def __init__(self, rate: RateLimit, *, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()
        self.taken = 0
        """Bytes charged so far (for reports and tests)."""

    def take(self, count: int) -> float:
        """Charge ``count`` bytes; wait (outside the lock) until they fit the rate.
        Return the seconds waited. A large count is allowed: the bucket goes into debt and
        the caller (and the next one) wait it off."""
        wait = self.owe(count)
        if wait > 0:
            self._sleep(wait)
        return wait

    def owe(self, count: int) -> float:
        """Charge ``count`` bytes without waiting; return the seconds the caller must wait
        for them to fit the rate (:meth:`pause` waits them)."""
        if count <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst),
                               self._tokens + (now - self._last) * self.rate.bytes_per_second)
            self._last = now
            self._tokens -= count
            self.taken += count
            return -self._tokens / self.rate.bytes_per_second if self._tokens < 0 else 0.0

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (on the bucket's own clock)."""
        self._sleep(seconds)


class Charge(Protocol):
    """Something bytes are charged on: a :class:`TokenBucket`, a :class:`LimitShare`."""

    def take(self, count: int) -> float: ...

    def owe(self, count: int) -> float: ...

    def pause(self, seconds: float) -> None: ...


class SharedLimit:
    """A bandwidth limit every host of the process shares: one bucket, and the bytes each
    host was charged on it (by the name its :meth:`share` was given). Thread-safe."""

    def __init__(self, rate: RateLimit, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.bucket = TokenBucket(rate, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self._by_host: dict[str, int] = {}

    def share(self, host: str) -> LimitShare:
        """What ``host``'s transports charge on this limit."""
        return LimitShare(self, host)

    def owe(self, host: str, count: int) -> float:
        """Charge ``count`` bytes of ``host`` on the bucket without waiting; return the
        seconds to wait (see :meth:`TokenBucket.owe`)."""
        if count > 0:
            with self._lock:
                self._by_host[host] = self._by_host.get(host, 0) + count
        return self.bucket.owe(count)

    def by_host(self) -> dict[str, int]:
        """Bytes charged so far, by host."""
        with self._lock:
            return dict(self._by_host)


@dataclass(frozen=True)
class LimitShare:
    """One host's part of a :class:`SharedLimit`: its bytes count on the shared bucket."""

    limit: SharedLimit
    host: str

    def take(self, count: int) -> float:
        wait = self.owe(count)
        if wait > 0:
            self.pause(wait)
        return wait

    def owe(self, count: int) -> float:
        return self.limit.owe(self.host, count)

    def pause(self, seconds: float) -> None:
        self.limit.bucket.pause(seconds)


class _Charges:
    """The same bytes charged on every one of ``charges`` at once, then the longest of their
    waits waited: the stricter limit holds the stream, and each holds its own rate."""

    def __init__(self, charges: tuple[Charge, ...]) -> None:
        self.charges = charges

    def take(self, count: int) -> float:
        wait = self.owe(count)
        if wait > 0:
            self.pause(wait)
        return wait

    def owe(self, count: int) -> float:
        return max(charge.owe(count) for charge in self.charges)

    def pause(self, seconds: float) -> None:
        self.charges[0].pause(seconds)


class _ThrottledReader(io.RawIOBase):
    def __init__(self, inner: IO[bytes], bucket: Charge) -> None:
        self._inner, self._bucket = inner, bucket

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        # never more than a chunk at once, so waits stay short and even
        want = min(len(view), BURST)
        read1 = getattr(self._inner, "read1", None)
        data = read1(want) if read1 is not None else self._inner.read(want)
        self._bucket.take(len(data))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _ThrottledWriter(io.RawIOBase):
    def __init__(self, inner: IO[bytes], bucket: Charge) -> None:
        self._inner, self._bucket = inner, bucket

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        chunk = bytes(data)[:BURST]
        self._bucket.take(len(chunk))
        self._inner.write(chunk)
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.flush()
            finally:
                self._inner.close()
        super().close()


class ThrottledProcess(RemoteProcess):
    """``inner`` with its stdin and stdout charged to ``bucket``."""

    def __init__(self, inner: RemoteProcess, bucket: Charge) -> None:
        self._inner = inner
        self.stdin: IO[bytes] = io.BufferedWriter(_ThrottledWriter(inner.stdin, bucket), BURST)
        self.stdout: IO[bytes] = io.BufferedReader(_ThrottledReader(inner.stdout, bucket), BURST)

    def wait(self, timeout: float | None = None) -> int:
        with contextlib.suppress(OSError, ValueError):  # an early exit: its status says why
            self.stdin.close()  # flushes what is buffered here into the process first
        return self._inner.wait(timeout)

    def stderr_text(self) -> str:
        return self._inner.stderr_text()

    def kill(self) -> None:
        self._inner.kill()


class ThrottledTransport(Transport):
    """A transport whose every byte to and from the host is charged to its host's bucket
    (``bucket``; None: no limit of its own) and to a ``shared`` limit's share (None: none),
    in that order."""

    def __init__(self, inner: Transport, bucket: TokenBucket | None,
                 shared: LimitShare | None = None) -> None:
        self.inner = inner
        self.bucket = bucket
        self.shared = shared
        self.name = inner.name
        charges: list[Charge] = [c for c in (bucket, shared) if c is not None]
        if not charges:
            raise ValueError("a throttled transport needs a bucket or a shared limit")
        self._charge: Charge = charges[0] if len(charges) == 1 else _Charges(tuple(charges))

    def run(self, command: Command, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = False) -> CommandResult:
        self._charge.take(len(input or b""))
        result = self.inner.run(command, input=input, timeout=timeout, check=False)
        self._charge.take(len(result.stdout) + len(result.stderr))  # the next bytes wait
        return result.check() if check else result

    def open_process(self, command: Command) -> RemoteProcess:
        return ThrottledProcess(self.inner.open_process(command), self._charge)

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> None:
        self._charge.take(Path(local).stat().st_size)
        self.inner.put(local, remote, mode=mode)

    def get(self, remote: str, local: Path) -> None:
        self.inner.get(remote, local)
        self._charge.take(Path(local).stat().st_size)

    def close(self) -> None:
        self.inner.close()


def limited(transport: Transport, limit: RateLimit | None,
            shared: LimitShare | None = None) -> Transport:
    """``transport`` throttled to ``limit`` (a bucket of its own) and charged on ``shared``
    (a fleet-wide limit), or as it is without either."""
    if limit is None and shared is None:
        return transport
    return ThrottledTransport(transport, TokenBucket(limit) if limit is not None else None,
                              shared)
