"""The controller itself as a host: commands through ``subprocess``, files by copying.

Same contract as the SSH transport (``sh -c``, ``sudo -n`` when asked to become
root, RemoteTimeout on timeouts, streamed processes), so code and tests written
against :class:`~evacuate.transport.base.Transport` run unchanged on ``local``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from evacuate.errors import RemoteCommandError, RemoteTimeout
from evacuate.transport.base import Command, CommandResult, RemoteProcess, Transport, render_command

STDERR_CAP = 64 * 1024
"""Bytes of a streamed process's stderr kept in memory (the last ones win)."""


class LocalTransport(Transport):
    """Run commands on the controller. ``become`` runs them under ``sudo -n --``
    unless we already are root. ``put``/``get`` copy files (as the current user)."""

    def __init__(self, *, become: bool = False, name: str = "local",
                 root: Path | None = None) -> None:
        self.name = name
        self.become = become
        self._sudo = become and os.geteuid() != 0
        # A rescued disk mounted here: commands run inside it (chroot) with its own tools.
        self.root = root

    def _argv(self, command: Command) -> list[str]:
        line = render_command(command)
        inner = ["chroot", str(self.root), "/bin/sh", "-c", line] if self.root else \
            ["sh", "-c", line]
        return (["sudo", "-n", "--"] if self._sudo else []) + inner

    def run(self, command: Command, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = False) -> CommandResult:
        """Run ``command`` via ``sh -c``; see :meth:`Transport.run`. On timeout the
        whole process group is killed before RemoteTimeout is raised."""
        line = render_command(command)
        started = time.monotonic()
        proc = subprocess.Popen(self._argv(command), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RemoteTimeout(
                f"{self.name}: command timed out after {timeout:g}s and was killed: {line[:120]}",
                hint="raise the timeout or check why the command hangs",
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        result = CommandResult(host=self.name, command=line, exit_status=proc.returncode,
                               stdout=stdout, stderr=stderr,
                               duration=time.monotonic() - started)
        return result.check() if check else result

    def open_process(self, command: Command) -> RemoteProcess:
        """Start ``command`` with piped stdin/stdout; stderr is drained in the background."""
        proc = subprocess.Popen(self._argv(command), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        return LocalProcess(self.name, render_command(command), proc)

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> None:
        """Copy ``local`` to the path ``remote``; apply ``mode`` before any data is written."""
        _copy(self.name, Path(local), Path(remote), mode)

    def get(self, remote: str, local: Path) -> None:
        """Copy the path ``remote`` to ``local``."""
        _copy(self.name, Path(remote), Path(local), None)

    def close(self) -> None:
        """Nothing to release."""


class LocalProcess(RemoteProcess):
    """A local child process with pipes; see :class:`RemoteProcess`."""

    def __init__(self, host: str, command: str, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.host = host
        self.command = command
        self._proc = proc
        self.stdin: IO[bytes] = proc.stdin
        self.stdout: IO[bytes] = proc.stdout
        self._stderr = bytearray()
        self._lock = threading.Lock()
        self._drain = threading.Thread(target=self._drain_stderr, args=(proc.stderr,),
                                       name=f"stderr {host}", daemon=True)
        self._drain.start()

    def _drain_stderr(self, pipe: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536):
                with self._lock:
                    self._stderr += chunk
                    del self._stderr[:-STDERR_CAP]

    def wait(self, timeout: float | None = None) -> int:
        """Close stdin, wait for the exit and return the status; on timeout kill the
        process and raise RemoteTimeout."""
        with contextlib.suppress(OSError, ValueError):
            self.stdin.close()
        try:
            status = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RemoteTimeout(
                f"{self.host}: process did not exit within {timeout:g}s and was killed: "
                f"{self.command[:120]}") from None
        self._drain.join(timeout=5)
        return status

    def stderr_text(self) -> str:
        with self._lock:
            return self._stderr.decode("utf-8", "replace")

    def kill(self) -> None:
        if self._proc.poll() is None:
            # Not _kill_group: communicate() must not run on a process whose pipes this
            # object reads and closes itself (it races the stderr drain and, on a second
            # call, fails inside subprocess). Waiting is all that is needed to reap it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError, ValueError):
                pipe.close()
        self._drain.join(timeout=5)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process's session (it was started in its own) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
        proc.communicate(timeout=5)


def _copy(host: str, source: Path, target: Path, mode: int | None) -> None:
    try:
        with source.open("rb") as src:
            # A new file starts private when a mode is coming, so secrets never sit
            # world-readable; without a mode the umask decides, as with SFTP.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         0o600 if mode is not None else 0o666)
            with os.fdopen(fd, "wb") as dst:
                if mode is not None:
                    os.fchmod(dst.fileno(), mode)
                shutil.copyfileobj(src, dst, 1024 * 1024)
    except OSError as err:
        raise RemoteCommandError(f"{host}: cannot copy {source} to {target}: "
                                 f"{err.strerror}: {err.filename}") from None
