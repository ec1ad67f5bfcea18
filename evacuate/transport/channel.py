"""Moving bytes over one SSH session channel: collecting a command's output, and the
streams behind :class:`~evacuate.transport.base.RemoteProcess`.

The channel is described structurally (:class:`Channel`, which paramiko's channel
satisfies), so this module does not know paramiko; :mod:`evacuate.transport.ssh`
creates the channels and supplies what needs the connection (exit status, kill).
"""

from __future__ import annotations

import contextlib
import errno
import io
import select
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Protocol

from evacuate.errors import ConnectionLost, RemoteTimeout
from evacuate.transport.base import RemoteProcess

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

CHUNK = 64 * 1024
STDERR_CAP = 64 * 1024
"""Bytes of a streamed process's stderr kept in memory (the last ones win)."""


class Channel(Protocol):
    """The part of an SSH session channel (paramiko.Channel) used here."""

    @property
    def closed(self) -> bool: ...
    @property
    def eof_received(self) -> int: ...
    @property
    def status_event(self) -> threading.Event: ...
    def fileno(self) -> int: ...
    def recv_ready(self) -> bool: ...
    def recv(self, nbytes: int) -> bytes: ...
    def recv_stderr_ready(self) -> bool: ...
    def recv_stderr(self, nbytes: int) -> bytes: ...
    def send(self, s: bytes) -> int: ...
    def sendall(self, s: bytes) -> None: ...
    def shutdown_write(self) -> None: ...
    def exit_status_ready(self) -> bool: ...
    def settimeout(self, timeout: float | None) -> None: ...
    def close(self) -> None: ...


def collect_output(chan: Channel, input: bytes | None,
                   deadline: float | None) -> tuple[bytes, bytes, bool]:
    """Feed ``input`` (then EOF) and read stdout and stderr together until the command
    has exited, the channel closed, or ``deadline`` (time.monotonic) passed. Return
    ``(stdout, stderr, finished)``; ``finished`` is False only when the deadline hit."""
    if input:
        threading.Thread(target=_feed, args=(chan, input), daemon=True).start()
    else:
        quietly(chan.shutdown_write)
    out, err = bytearray(), bytearray()
    while not chan.closed:
        out += _drain(chan.recv_ready, chan.recv)
        err += _drain(chan.recv_stderr_ready, chan.recv_stderr)
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            break
        if chan.eof_received:  # the pipe stays readable after EOF: wait on the status
            if chan.status_event.wait(remaining):
                break
        else:
            select.select([chan], [], [], remaining)
    out += _drain(chan.recv_ready, chan.recv)
    err += _drain(chan.recv_stderr_ready, chan.recv_stderr)
    return bytes(out), bytes(err), chan.exit_status_ready()


def quietly(send: Callable[[], object]) -> None:
    """Send what needs no answer (EOF, a close) on a channel whose connection may have
    broken meanwhile: paramiko then raises EOFError (or OSError): the command's exit
    status, or its absence, says what happened."""
    with contextlib.suppress(EOFError, OSError):
        send()


def _feed(chan: Channel, data: bytes) -> None:
    with contextlib.suppress(Exception):  # the command may exit without reading it all
        chan.sendall(data)
        chan.shutdown_write()


def _drain(ready: Callable[[], bool], recv: Callable[[int], bytes]) -> bytes:
    out = bytearray()
    while ready():
        out += recv(CHUNK)
    return bytes(out)


class ChannelProcess(RemoteProcess):
    """A remote command on its own channel; stdin/stdout are buffered binary streams.

    ``exit_status()`` returns the finished command's status or raises ConnectionLost;
    ``lost()`` tells whether the connection broke before the status came; ``interrupt()``
    asks the server to kill the command.
    """

    def __init__(self, host: str, command: str, chan: Channel, *,
                 exit_status: Callable[[], int], lost: Callable[[], bool],
                 interrupt: Callable[[], None], idle_timeout: float | None = None) -> None:
        self.host = host
        # A network that drops silently never ends a read: give up after this long without
        # a byte (a stream that stalls that long is broken for our purposes).
        self.idle_timeout = idle_timeout
        if idle_timeout is not None:
            chan.settimeout(idle_timeout)
        self.command = command
        self._chan = chan
        self._exit_status = exit_status
        self._lost = lost
        self._interrupt = interrupt
        self.stdin: IO[bytes] = io.BufferedWriter(_ChannelWriter(chan), CHUNK)
        self.stdout: IO[bytes] = io.BufferedReader(_ChannelReader(self), CHUNK)
        self._stderr = bytearray()
        self._lock = threading.Lock()
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True,
                                       name=f"stderr {host}")
        self._drain.start()

    def _drain_stderr(self) -> None:
        # Undrained stderr would fill the channel window and stall stdout too.
        with contextlib.suppress(Exception):
            while True:
                try:
                    chunk = self._chan.recv_stderr(CHUNK)
                except TimeoutError:  # a quiet stderr is normal: keep draining
                    if self._chan.closed or self._chan.exit_status_ready():
                        break
                    continue
                if not chunk:
                    break
                with self._lock:
                    self._stderr += chunk
                    del self._stderr[:-STDERR_CAP]

    def wait(self, timeout: float | None = None) -> int:
        """Close stdin, wait for the exit status and return it. The caller must have read
        stdout (or the command may block writing it). Raise RemoteTimeout (after killing
        the command) past ``timeout``, ConnectionLost if the connection broke."""
        with contextlib.suppress(Exception):
            self.stdin.close()
        if not self._chan.status_event.wait(timeout):
            self.kill()
            raise RemoteTimeout(f"{self.host}: process did not exit within {timeout:g}s "
                                f"and was killed: {self.command[:120]}")
        self._drain.join(timeout=5)
        return self._exit_status()

    def stderr_text(self) -> str:
        with self._lock:
            return self._stderr.decode("utf-8", "replace")

    def kill(self) -> None:
        if not self._chan.closed:
            self._interrupt()
            quietly(self._chan.close)
        self._drain.join(timeout=5)

    def _read_into(self, view: memoryview) -> int:
        try:
            data = self._chan.recv(len(view))
        except TimeoutError:
            raise ConnectionLost(f"{self.host}: no data for {self.idle_timeout:g} s while "
                                 f"streaming (network down?): {self.command[:120]}") from None
        if not data and self._lost():
            raise ConnectionLost(f"{self.host}: connection lost while streaming from: "
                                 f"{self.command[:120]}")
        view[: len(data)] = data
        return len(data)


class _ChannelReader(io.RawIOBase):
    def __init__(self, process: ChannelProcess) -> None:
        self._process = process

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        return self._process._read_into(memoryview(buffer).cast("B"))


class _ChannelWriter(io.RawIOBase):
    def __init__(self, chan: Channel) -> None:
        self._chan = chan

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        try:
            return self._chan.send(bytes(data))
        except TimeoutError:
            raise ConnectionLost("the host took no data for too long while streaming "
                                 "(network down?)") from None
        except (OSError, EOFError) as err:  # EOFError: paramiko could not send the packet
            raise BrokenPipeError(errno.EPIPE,
                                  f"remote stdin closed: {err or 'connection broken'}") from None

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._chan.shutdown_write()
        super().close()
