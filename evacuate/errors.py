"""The error tree of evacuate and the exit codes the CLI maps it to.

Every error a user can cause or meet (bad config, unreachable host, refused host
key, failed remote command, ...) is an :class:`EvacuateError`. Its ``str()`` is
one line meant for a sysadmin; ``hint`` optionally says what to do next. Only the
CLI turns these into messages and exit codes; everything below raises them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``evacuate`` command (also documented in README)."""

    OK = 0
    FAILURE = 1  # the operation ran and failed (e.g. a check failed, a step failed)
    USAGE = 2  # bad command line (typer/click use 2 as well)
    CONFIG = 3  # evacuate.yml or another input file is invalid or missing
    CONNECTION = 4  # a host is unreachable, refused authentication, or its session broke
    HOST_KEY = 5  # a host key is unknown or changed: refused
    REMOTE = 6  # a command on a host failed or timed out
    STORE = 7  # the snapshot store is unreachable, inconsistent or corrupt
    LAB = 8  # the lab could not be built, started or stopped
    INTERRUPTED = 130  # Ctrl-C / SIGTERM
    INTERNAL = 70  # a bug: traceback written to the debug log


class EvacuateError(Exception):
    """Base of every expected failure. ``str(err)`` is a one-line message."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = " ".join(message.split()) if "\n" in message else message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(EvacuateError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = ExitCode.USAGE


class ConfigError(EvacuateError):
    """A configuration file is missing or invalid; ``problems`` lists every error found."""

    exit_code = ExitCode.CONFIG

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])


class TransportError(EvacuateError):
    """Talking to a host failed."""

    exit_code = ExitCode.CONNECTION


class HostUnreachable(TransportError):
    """No connection could be made (DNS, refused, timed out, no route)."""


class AuthenticationFailed(TransportError):
    """The host refused every key/password we offered."""


class ConnectionLost(TransportError):
    """An established session broke in the middle of an operation."""


class HostKeyError(TransportError):
    """The host key is unknown (and not explicitly trusted) or differs from known_hosts."""

    exit_code = ExitCode.HOST_KEY


class RemoteCommandError(EvacuateError):
    """A command on a host exited non-zero where success was required."""

    exit_code = ExitCode.REMOTE

    def __init__(self, message: str, *, exit_status: int | None = None, stderr: str = "",
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_status = exit_status
        self.stderr = stderr


class RemoteTimeout(RemoteCommandError):
    """A command on a host did not finish within its time limit."""


class StoreError(EvacuateError):
    """The snapshot store failed or holds inconsistent data."""

    exit_code = ExitCode.STORE


class LabError(EvacuateError):
    """The lab could not be built, started, inspected or stopped."""

    exit_code = ExitCode.LAB
