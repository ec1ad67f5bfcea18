"""Files to and from a host over SSH: SFTP as the login user, or a stream through
``sudo -n`` when the transport becomes root (the SFTP server runs as the login user).
Part of the SSH transport (see ssh.py); paramiko is reached through sshlib.py."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from evacuate.errors import ConnectionLost, RemoteCommandError, TransportError
from evacuate.transport.base import RemoteProcess, render_command
from evacuate.transport.channel import CHUNK
from evacuate.transport.sshlib import SSH_ERRORS, Connection, SFTPClient, open_sftp


class SFTPFiles:
    """put/get for SSHTransport, which provides the attributes declared here."""

    name: str
    _sudo: bool
    _sftp: SFTPClient | None
    _transport: Connection | None

    def _connected(self) -> Connection:
        raise NotImplementedError

    def open_process(self, command: Any) -> RemoteProcess:
        raise NotImplementedError

    # -- files --------------------------------------------------------------------------
    def _sftp_client(self) -> SFTPClient:
        transport = self._connected()
        if self._sftp is None or self._sftp.get_channel() is None or \
                self._sftp.get_channel().closed:  # type: ignore[union-attr]
            try:
                self._sftp = open_sftp(transport)
            except SSH_ERRORS as err:
                raise ConnectionLost(f"{self.name}: cannot open SFTP: {_oneline(err)}") from None
        assert self._sftp is not None
        return self._sftp

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> None:
        """Copy ``local`` to ``remote`` by SFTP (as root via ``sudo -n`` when ``become``);
        ``mode`` is applied before data is written. Raise RemoteCommandError when the
        remote path cannot be written, ConnectionLost when the connection breaks."""
        if self._sudo:
            script = 'umask 077 && cat > "$1"' + (
                f' && chmod {mode:o} "$1"' if mode is not None else "")
            return _shell_copy(self, ["sh", "-c", script, "sh", remote], Path(local), None)
        src = _open_local(self.name, Path(local), "rb")
        with src, self._file_errors("write", remote), \
                self._sftp_client().open(remote, "wb") as dst:
            if mode is not None:
                dst.chmod(mode)
            dst.set_pipelined(True)
            while chunk := src.read(CHUNK):
                dst.write(chunk)

    def get(self, remote: str, local: Path) -> None:
        """Copy ``remote`` to the local file ``local`` (created 0600); on failure no
        partial ``local`` is left behind. Errors as for :meth:`put`."""
        dst = _open_local(self.name, Path(local), "wb")
        try:
            with dst:
                if self._sudo:
                    return _shell_copy(self, ["cat", "--", remote], None, dst)
                with self._file_errors("read", remote), \
                        self._sftp_client().open(remote, "rb") as src:
                    src.prefetch()
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
        except BaseException:
            Path(local).unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def _file_errors(self, verb: str, remote: str) -> Iterator[None]:
        try:
            yield
        except TransportError:
            raise
        except SSH_ERRORS as err:
            if self._transport is None or not self._transport.is_active():
                raise ConnectionLost(f"{self.name}: connection lost during SFTP {verb} of "
                                     f"{remote}") from None
            raise RemoteCommandError(f"{self.name}: cannot {verb} {remote}: "
                                     f"{getattr(err, 'strerror', None) or _oneline(err)}") from None


def _shell_copy(owner: SFTPFiles, argv: list[str], source: Path | None,
                target: IO[bytes] | None) -> None:
    """put/get as root: stream through ``sudo -n`` (the SFTP server runs as the user)."""
    with owner.open_process(argv) as proc:
        if source is not None:
            # A remote that fails early closes its stdin: its status says why.
            with _open_local(owner.name, source, "rb") as src, \
                    contextlib.suppress(BrokenPipeError):
                while chunk := src.read(CHUNK):
                    proc.stdin.write(chunk)
        if target is not None:
            while chunk := proc.stdout.read(CHUNK):
                target.write(chunk)
        status = proc.wait()
        if status != 0:
            last = (proc.stderr_text().strip().splitlines() or [""])[-1]
            raise RemoteCommandError(f"{owner.name}: file copy failed with status {status}: "
                                     f"{render_command(argv)[:120]}: {last}", exit_status=status,
                                     stderr=proc.stderr_text())


def _open_local(host: str, path: Path, mode: str) -> IO[bytes]:
    try:
        if mode == "rb":
            return path.open("rb")
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
    except OSError as err:
        raise RemoteCommandError(f"{host}: cannot open local file {path}: {err.strerror}") from None


def _oneline(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__
