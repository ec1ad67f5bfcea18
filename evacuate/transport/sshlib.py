"""paramiko, behind one module: the only module of evacuate that imports it.

The SSH transport (ssh.py, ssh_files.py, ssh_sudo.py) uses the names below, never
paramiko itself: the connection, channel, SFTP client and key types, the errors it
catches, and the few operations that need paramiko's own API (opening a connection,
loading keys and the ssh config, asking sshd for a signal, ordering host key types).
"""

from __future__ import annotations

import socket
from pathlib import Path

import paramiko

__all__ = [
    "SSH_ERRORS", "Agent", "AuthenticationException", "BadAuthenticationType", "Channel",
    "ChannelRefused", "Connection", "PKey", "PasswordRequiredException", "SFTPClient", "SSHConfig",
    "SSHException", "empty_ssh_config", "load_private_key", "open_agent", "open_connection",
    "open_sftp", "prefer_key_types", "read_ssh_config", "send_signal",
]

Connection = paramiko.Transport
"""One SSH connection (paramiko's Transport): sessions are opened on it."""
Channel = paramiko.Channel
"""One session channel: a command's stdin, stdout, stderr and exit status."""
SFTPClient = paramiko.SFTPClient
PKey = paramiko.PKey
Agent = paramiko.Agent
SSHConfig = paramiko.SSHConfig

SSHException = paramiko.SSHException
AuthenticationException = paramiko.AuthenticationException
BadAuthenticationType = paramiko.BadAuthenticationType
"""The server refuses the method; ``allowed_types`` lists the ones it accepts."""
PasswordRequiredException = paramiko.PasswordRequiredException
ChannelRefused = paramiko.ChannelException
"""The server refused to open a channel (sshd's MaxSessions reached: 'Connect failed')."""

SSH_ERRORS = (paramiko.SSHException, EOFError, OSError)
"""What a broken or refusing connection raises."""


def open_connection(sock: socket.socket) -> Connection:
    """An SSH connection over a connected socket; nothing is negotiated yet."""
    return paramiko.Transport(sock)


def open_agent() -> Agent:
    """The ssh-agent of $SSH_AUTH_SOCK (no keys when there is none)."""
    return paramiko.Agent()


def open_sftp(connection: Connection) -> SFTPClient | None:
    """A new SFTP session on ``connection`` (None if paramiko opened no channel). Raise
    one of SSH_ERRORS."""
    return paramiko.SFTPClient.from_transport(connection)


def empty_ssh_config() -> SSHConfig:
    return paramiko.SSHConfig()


def read_ssh_config(path: Path) -> SSHConfig:
    """Parse an ssh config file. Raise OSError, or another exception when it is invalid."""
    return paramiko.SSHConfig.from_path(str(path))


def load_private_key(path: Path) -> PKey:
    """Load a private key file of any type. Raise PasswordRequiredException when it is
    encrypted, FileNotFoundError, or another exception when it is unreadable."""
    return paramiko.PKey.from_path(path)


def send_signal(chan: Channel, name: str) -> None:
    """Send a "signal" channel request (RFC 4254 6.9) for signal ``name`` without waiting
    for a reply; paramiko has no public API for it. Raise when the connection is dead."""
    message = paramiko.Message()
    message.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
    message.add_int(chan.remote_chanid)
    message.add_string("signal")
    message.add_boolean(False)
    message.add_string(name)
    send = chan.get_transport()._send_user_message  # type: ignore[attr-defined]
    send(message)


def prefer_key_types(connection: Connection, wanted: list[str]) -> None:
    """Put the host key types in ``wanted`` (those the connection supports) first in
    its negotiation order, keeping the rest after them in their order."""
    options = connection.get_security_options()
    current = list(options.key_types)
    first = [t for t in dict.fromkeys(wanted) if t in current]
    options.key_types = first + [t for t in current if t not in first]
