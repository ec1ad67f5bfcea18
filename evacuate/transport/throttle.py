"""Bandwidth limits: the one place where streams to and from a host are throttled.

A :class:`RateLimit` (``--limit-rate 10M``, evacuate.yml's ``limit_rate``) travels in
:class:`~evacuate.transport.options.ConnectOptions`; :func:`limited` wraps the transport
:func:`~evacuate.transport.open_transport` made in a :class:`ThrottledTransport`, which
charges one :class:`TokenBucket` per host for every byte that crosses it: a streamed
process's stdin and stdout (tar, dumps, loads, listings), files put and got, and commands'
input and output. Everything above the transport (snapshot, run, restore, cutover) gets the
limit without knowing it.
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
from typing import IO, TYPE_CHECKING

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
        if count <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst),
                               self._tokens + (now - self._last) * self.rate.bytes_per_second)
            self._last = now
            self._tokens -= count
            self.taken += count
            wait = -self._tokens / self.rate.bytes_per_second if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class _ThrottledReader(io.RawIOBase):
    def __init__(self, inner: IO[bytes], bucket: TokenBucket) -> None:
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
    def __init__(self, inner: IO[bytes], bucket: TokenBucket) -> None:
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

    def __init__(self, inner: RemoteProcess, bucket: TokenBucket) -> None:
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
    """A transport whose every byte to and from the host is charged to one bucket."""

    def __init__(self, inner: Transport, bucket: TokenBucket) -> None:
        self.inner = inner
        self.bucket = bucket
        self.name = inner.name

    def run(self, command: Command, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = False) -> CommandResult:
        self.bucket.take(len(input or b""))
        result = self.inner.run(command, input=input, timeout=timeout, check=False)
        self.bucket.take(len(result.stdout) + len(result.stderr))  # the next bytes wait
        return result.check() if check else result

    def open_process(self, command: Command) -> RemoteProcess:
        return ThrottledProcess(self.inner.open_process(command), self.bucket)

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> None:
        self.bucket.take(Path(local).stat().st_size)
        self.inner.put(local, remote, mode=mode)

    def get(self, remote: str, local: Path) -> None:
        self.inner.get(remote, local)
        self.bucket.take(Path(local).stat().st_size)

    def close(self) -> None:
        self.inner.close()


def limited(transport: Transport, limit: RateLimit | None) -> Transport:
    """``transport`` throttled to ``limit`` (a bucket of its own), or as it is without one."""
    if limit is None:
        return transport
    return ThrottledTransport(transport, TokenBucket(limit))
