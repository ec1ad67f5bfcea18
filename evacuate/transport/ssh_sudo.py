"""Becoming root over SSH: ``sudo -n`` where sudo needs no password, else ``sudo -S -k``
with the password (from EVACUATE_BECOME_PASSWORD) as the first line of each command's
stdin, so it never appears in a command line or a process list. Part of the SSH transport
(see ssh.py), which provides the attributes declared here."""

from __future__ import annotations

import shlex

from evacuate.errors import AuthenticationFailed, ConnectionLost
from evacuate.transport.sshlib import SSH_ERRORS, Channel, Connection

SUDO_NOPASSWD = "sudo -n -- "
SUDO_PASSWORD = "sudo -S -k -p '' -- "


class SudoBecome:
    """The sudo prefix of an SSHTransport, probed once per transport."""

    name: str
    user: str
    connect_timeout: float
    _become_password: str | None
    _sudo_prefix: str | None

    def _connected(self) -> Connection:
        raise NotImplementedError

    def _sudo_mode(self) -> str:
        """The sudo prefix for this host, probed once: ``sudo -n`` when sudo needs no
        password; ``sudo -S -k`` (the password as stdin's first line; -k so that sudo always
        reads it, cached credentials or not) when it does and a password was given. Raise
        AuthenticationFailed when the given password is refused."""
        if self._sudo_prefix is not None:
            return self._sudo_prefix
        if self._become_password is None or self._raw_status("sudo -n true") == 0:
            # Without a password there is nothing to choose: sudo -n fails at once with
            # "a password is required" where one is, and that message is shown.
            self._sudo_prefix = SUDO_NOPASSWD
            return self._sudo_prefix
        if self._raw_status(f"{SUDO_PASSWORD}true", self._become_password.encode() + b"\n") != 0:
            raise AuthenticationFailed(f"{self.name}: sudo refused the password for "
                                       f"{self.user} (EVACUATE_BECOME_PASSWORD)")
        self._sudo_prefix = SUDO_PASSWORD
        return self._sudo_prefix

    def _send_become_password(self, chan: Channel) -> None:
        """Feed the password to a command just started under ``sudo -S``."""
        if self._sudo_prefix == SUDO_PASSWORD:
            assert self._become_password is not None
            chan.sendall(self._become_password.encode() + b"\n")

    def _raw_status(self, line: str, stdin: bytes = b"") -> int:
        """Run ``line`` as the login user (no sudo, output discarded) with ``stdin``; return
        its exit status."""
        try:
            chan = self._connected().open_session(timeout=self.connect_timeout)
            try:
                chan.exec_command(f"exec sh -c {shlex.quote(line + ' >/dev/null 2>&1')}")
                if stdin:
                    chan.sendall(stdin)
                chan.shutdown_write()
                if not chan.status_event.wait(self.connect_timeout + 20):
                    raise TimeoutError("no answer")
                return chan.exit_status
            finally:
                chan.close()
        except (*SSH_ERRORS, TimeoutError) as err:
            text = " ".join(str(err).split()) or type(err).__name__
            raise ConnectionLost(f"{self.name}: cannot check sudo: {text}") from None
