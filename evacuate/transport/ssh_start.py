"""Starting a command on an SSH connection, through a server that may refuse it.

sshd refuses a new session when MaxSessions (default 10) of them are open ("no more
sessions" in its log), and refuses a session's command when it cannot make its pipes or
fork ("pipe err", "fork": its open-file or process limit). Either way the command did
not start, and the connection stays up: the request is repeated as the commands in
flight end, for up to REFUSED_WAIT seconds. A broken connection is ConnectionLost at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from evacuate.errors import ConnectionLost
from evacuate.transport import sshlib
from evacuate.transport.channel import quietly

log = logging.getLogger(__name__)

REFUSED_WAIT = 60.0
"""Seconds a command the server refuses to start is asked for again."""


def start_command(connect: Callable[[], sshlib.Connection], remote: str, name: str,
                  open_timeout: float,
                  started: Callable[[sshlib.Channel], None]) -> sshlib.Channel:
    """A channel of ``connect()`` running the exec request ``remote``; ``started`` is
    called on it first (it may write to the command's stdin). Raise ConnectionLost."""
    deadline, pause = time.monotonic() + REFUSED_WAIT, 0.05
    while True:
        connection = connect()
        outcome = _try(connection, remote, name, open_timeout)
        if not isinstance(outcome, str):
            try:
                started(outcome)
            except sshlib.SSH_ERRORS as err:
                quietly(outcome.close)
                raise _lost(name, err) from None
            return outcome
        if time.monotonic() + pause > deadline:
            raise ConnectionLost(
                f"{name}: cannot start a command: the server refused it for "
                f"{REFUSED_WAIT:g}s ({outcome})",
                hint="sshd's MaxSessions, or its open-file or process limit, is reached: "
                     "see the host's sshd log")
        log.info("%s: the server refused a new command (%s); asking again in %.2fs",
                 name, outcome, pause)
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _try(connection: sshlib.Connection, remote: str, name: str,
         open_timeout: float) -> sshlib.Channel | str:
    """The channel running ``remote``, or why the server refused it."""
    try:
        chan = connection.open_session(timeout=open_timeout)
    except sshlib.ChannelRefused as err:
        return f"session refused: {err.text}"
    except sshlib.SSH_ERRORS as err:
        raise _lost(name, err) from None
    try:
        chan.exec_command(remote)
    except sshlib.SSH_ERRORS as err:
        quietly(chan.close)
        if not connection.is_active():
            raise _lost(name, err) from None
        return "command refused"
    return chan


def _lost(name: str, err: BaseException) -> ConnectionLost:
    return ConnectionLost(f"{name}: cannot start a command: {' '.join(str(err).split())}")
