"""The transport seam: how evacuate runs commands on, and streams data to and from, a host.

Everything above this package talks to hosts only through :class:`Transport`.
Implementations: :mod:`evacuate.transport.ssh` (paramiko, through sshlib)
and :mod:`evacuate.transport.local` (subprocess, for the controller itself and
for a rescued disk mounted locally).
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from evacuate.errors import RemoteCommandError

Command = str | Sequence[str]


def render_command(command: Command) -> str:
    """Return ``command`` as one POSIX sh command line; argument lists are quoted."""
    if isinstance(command, str):
        return command
    return shlex.join(list(command))


@dataclass(frozen=True)
class CommandResult:
    """What a finished command left behind."""

    host: str
    command: str
    exit_status: int
    stdout: bytes
    stderr: bytes
    duration: float

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    @property
    def text(self) -> str:
        """stdout decoded as UTF-8 (undecodable bytes escaped)."""
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def error_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def check(self) -> CommandResult:
        """Return self if the command succeeded; raise RemoteCommandError otherwise."""
        if not self.ok:
            last = self.error_text.strip().splitlines()[-1:] or [""]
            raise RemoteCommandError(
                f"{self.host}: command failed with exit status {self.exit_status}: "
                f"{self.command[:120]}{': ' + last[0] if last[0] else ''}",
                exit_status=self.exit_status,
                stderr=self.error_text,
                hint=SUDO_PASSWORD_HINT if "sudo: a password is required" in self.error_text
                else None,
            )
        return self


SUDO_PASSWORD_HINT = ("the SSH user's sudo wants a password: export EVACUATE_BECOME_PASSWORD, "
                      "allow it NOPASSWD, or connect as root")


class RemoteProcess(ABC):
    """A command running on a host whose stdin/stdout are streams (for tar, dumps, rsync).

    Use as a context manager; ``wait()`` returns the exit status. Leaving the
    context without ``wait()`` kills the process.
    """

    stdin: IO[bytes]
    stdout: IO[bytes]

    @abstractmethod
    def wait(self, timeout: float | None = None) -> int:
        """Close stdin if still open, wait for the exit, return the exit status."""

    @abstractmethod
    def stderr_text(self) -> str:
        """Everything the process wrote to stderr so far (kept in memory, capped)."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the process now (best effort)."""

    def __enter__(self) -> RemoteProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill()


class Transport(ABC):
    """Run commands on one host and move data to and from it.

    ``name`` is the host label used in every message. Commands run through a
    non-interactive, non-login POSIX shell; when ``become`` is set and the
    login user is not root they run under ``sudo -n``.
    """

    name: str

    @abstractmethod
    def run(self, command: Command, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = False) -> CommandResult:
        """Run ``command`` and return its result; raise RemoteTimeout past ``timeout``
        seconds, RemoteCommandError if ``check`` and it failed, TransportError if the
        host cannot be reached."""

    def run_script(self, script: str, *, timeout: float | None = None,
                   check: bool = False) -> CommandResult:
        """Run a POSIX sh ``script`` (sent on stdin to ``sh -s``) in one round trip."""
        return self.run("sh -s", input=script.encode(), timeout=timeout, check=check)

    @abstractmethod
    def open_process(self, command: Command) -> RemoteProcess:
        """Start ``command`` with streamed stdin/stdout; data never sits whole in memory."""

    @abstractmethod
    def put(self, local: Path, remote: str, *, mode: int | None = None) -> None:
        """Copy the local file ``local`` to ``remote`` on the host."""

    @abstractmethod
    def get(self, remote: str, local: Path) -> None:
        """Copy the host's file ``remote`` to the local path ``local``."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; idempotent."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
