"""SSH transport on paramiko (through :mod:`evacuate.transport.sshlib`, its only importer).

Contract, beyond :class:`~evacuate.transport.base.Transport`:

* Host resolution follows ``~/.ssh/config`` (HostName, User, Port, IdentityFile,
  IdentitiesOnly, UserKnownHostsFile); ProxyJump/ProxyCommand are refused, not ignored.
* Host keys are checked strictly against known_hosts (plain, hashed, ``[host]:port``,
  wildcard and ``@revoked`` lines). An unknown key is refused unless ``trust_unknown``
  (then it is appended to the known_hosts file); a changed key is always refused.
* Authentication is public key only: explicit identities, then the agent, then the
  default ``~/.ssh/id_*`` keys. ``become`` uses ``sudo -n``; when the host's sudo wants a
  password and one was given, ``sudo -S -k`` reads it as the first line of each command's
  stdin (it never appears in a command line), checked once per connection.
* Commands run as ``exec sh -c '...'`` under the login shell, so never as a login or
  interactive shell; Debian's bash still sources ~/.bashrc for commands from sshd,
  so a slow ~/.bashrc on the host costs that much per command.
* One connection is opened lazily (or by :meth:`SSHTransport.connect`) and reused;
  if it dropped between commands it is reopened. Every failure surfaces as a
  :class:`~evacuate.errors.TransportError` (or RemoteCommandError/RemoteTimeout)
  with a one-line message naming the host.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import logging
import os
import shlex
import socket
import threading
import time
from pathlib import Path

from evacuate.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionLost,
    HostKeyError,
    HostUnreachable,
    RemoteTimeout,
    UsageError,
)
from evacuate.transport import sshlib
from evacuate.transport.base import Command, CommandResult, RemoteProcess, Transport, render_command
from evacuate.transport.channel import ChannelProcess, collect_output, quietly
from evacuate.transport.known_hosts import (
    KnownHostKey,
    host_key_name,
    read_known_hosts,
    record_host_key,
    verify_host_key,
)
from evacuate.transport.liveness import stream_idle_timeout, watchdog
from evacuate.transport.options import ConnectOptions
from evacuate.transport.spec import HostSpec, parse_host_spec
from evacuate.transport.ssh_files import SFTPFiles
from evacuate.transport.ssh_start import start_command
from evacuate.transport.ssh_sudo import SudoBecome

log = logging.getLogger(__name__)

DEFAULT_IDENTITIES = ("id_ed25519", "id_ecdsa", "id_rsa")
KILL_GRACE = 1.0
"""Seconds past a run() timeout after which the host itself kills the command."""
GLOBAL_KNOWN_HOSTS = Path("/etc/ssh/ssh_known_hosts")


class SSHTransport(SudoBecome, SFTPFiles, Transport):
    """A host reached over SSH. Construction reads the ssh config but opens nothing;
    the first operation (or :meth:`connect`) connects."""

    def __init__(self, spec: HostSpec | str, options: ConnectOptions | None = None) -> None:
        spec = parse_host_spec(spec) if isinstance(spec, str) else spec
        self.options = options = options or ConnectOptions()
        known_hosts, identity = options.known_hosts, options.identity
        conf = _load_ssh_config(options.ssh_config).lookup(spec.host)
        for option in ("proxyjump", "proxycommand"):
            if conf.get(option, "none").lower() != "none":
                raise UsageError(f"{spec}: ssh config sets {option} for this host, which "
                                 "evacuate does not support yet",
                                 hint="connect to the host directly or via a VPN")
        self.hostname: str = conf.get("hostname", spec.host)
        try:
            self.port: int = spec.port or int(conf.get("port", 22))
        except ValueError:
            raise ConfigError(f"{spec}: ssh config has an invalid Port "
                              f"{conf.get('port')!r}") from None
        self.user: str = spec.user or conf.get("user") or getpass.getuser()
        shown = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        self.name = f"{self.user}@{shown}:{self.port}"
        self.host_key_name = host_key_name(self.hostname, self.port)
        config_known = conf.get("userknownhostsfile", "").split()
        self.known_hosts = Path(known_hosts or os.path.expanduser(
            config_known[0] if config_known else "~/.ssh/known_hosts"))
        self._read_global_known_hosts = known_hosts is None
        self.identities = ([identity] if identity else []) + [
            Path(os.path.expanduser(p)) for p in conf.get("identityfile", [])]
        self.identities_only = conf.get("identitiesonly", "no").lower() == "yes"
        self.use_agent = options.use_agent and not self.identities_only
        self.trust_unknown, self.connect_timeout = options.trust_unknown, options.connect_timeout
        self.become = options.become
        self._sudo = self.become and self.user != "root"
        self._become_password = options.become_password
        self._sudo_prefix: str | None = None  # decided on the first command, see _sudo_mode
        self._transport: sshlib.Connection | None = None
        self._sftp: sshlib.SFTPClient | None = None
        self._lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------
    def connect(self) -> SSHTransport:
        """Connect and authenticate now unless already connected; return self. Raise
        HostUnreachable, HostKeyError, AuthenticationFailed or ConnectionLost."""
        self._connected()
        return self

    def _connected(self) -> sshlib.Connection:
        with self._lock:
            if self._transport is not None and self._transport.is_active():
                return self._transport
            if self._transport is not None:
                log.info("%s: connection dropped, reconnecting", self.name)
            self._drop()
            sock = self._open_socket()
            transport = sshlib.open_connection(sock)
            try:
                transport.banner_timeout = transport.auth_timeout = self.connect_timeout
                known = self._known_keys()
                _prefer_key_types(transport, [k.key_type for k in known if not k.revoked])
                try:
                    transport.start_client(timeout=self.connect_timeout)
                    # a server still booting may close the session right after the handshake
                    server_key = transport.get_remote_server_key()
                except sshlib.SSH_ERRORS as err:
                    raise HostUnreachable(f"{self.name}: SSH handshake failed: {_oneline(err)}",
                                          hint="is this port an SSH server?") from None
                self._check_host_key(server_key, known)
                self._authenticate(transport)
            except BaseException:
                transport.close()
                raise
            self._transport = transport
            threading.Thread(target=watchdog, args=(transport, self.name), daemon=True,
                             name=f"keepalive {self.name}").start()
            return transport

    def _open_socket(self) -> socket.socket:
        try:
            addresses = socket.getaddrinfo(self.hostname, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise HostUnreachable(f"{self.name}: cannot resolve host name {self.hostname!r}: "
                                  f"{getattr(err, 'strerror', None) or err}",
                                  hint="check the name, or set HostName in ~/.ssh/config") from None
        deadline = time.monotonic() + self.connect_timeout
        last: OSError | None = None
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                sock.connect(address)
            except OSError as err:
                sock.close()
                last = err
                continue
            # Without it each small request waits on Nagle/delayed ACK (47 ms → 15 ms).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        raise HostUnreachable(f"{self.name}: {self._why_unreachable(last)}",
                              hint="check the address and port, and that sshd runs there")

    def _why_unreachable(self, err: OSError | None) -> str:
        if isinstance(err, ConnectionRefusedError):
            return f"connection refused on port {self.port} (no SSH server listening?)"
        if isinstance(err, TimeoutError | socket.timeout):
            return f"no answer within {self.connect_timeout:g}s (host down or port filtered?)"
        if err is not None and err.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "no route to host"
        return f"cannot connect: {err.strerror if err is not None else 'no address'}"

    # -- host keys ----------------------------------------------------------------------
    def _known_keys(self) -> list[KnownHostKey]:
        files = [self.known_hosts] + ([GLOBAL_KNOWN_HOSTS] if self._read_global_known_hosts else [])
        return [k for path in files for k in read_known_hosts(path, self.host_key_name)]

    def _check_host_key(self, key: sshlib.PKey, known: list[KnownHostKey]) -> None:
        blob = key.asbytes()
        if not verify_host_key(self.name, self.host_key_name, blob, known, self.known_hosts,
                               trust_unknown=self.trust_unknown):
            return
        try:
            record_host_key(self.known_hosts, self.host_key_name, blob)
        except OSError as err:
            raise HostKeyError(f"{self.name}: cannot record host key in {self.known_hosts}: "
                               f"{err.strerror}") from None
        log.warning("%s: trusted unknown host key %s %s; added to %s", self.name,
                    key.get_name(), key.fingerprint, self.known_hosts)

    # -- authentication -----------------------------------------------------------------
    def _authenticate(self, transport: sshlib.Connection) -> None:
        # Explicit identities go first: sshd allows few attempts (MaxAuthTries 6), and
        # an agent full of keys would use them up before the key that works.
        tried: list[str] = []
        agent = sshlib.open_agent() if self.use_agent else None
        try:
            for label, key in self._candidate_keys(agent, tried):
                try:
                    transport.auth_publickey(self.user, key)
                except sshlib.BadAuthenticationType as err:
                    raise AuthenticationFailed(
                        f"{self.name}: server does not accept public keys for {self.user!r} "
                        f"(it allows: {', '.join(err.allowed_types) or 'nothing'})") from None
                except sshlib.AuthenticationException:
                    tried.append(label)
                    continue
                except sshlib.SSH_ERRORS as err:
                    raise ConnectionLost(f"{self.name}: connection lost during authentication: "
                                         f"{_oneline(err)}") from None
                if transport.is_authenticated():
                    return
        finally:
            if agent is not None:
                agent.close()
        raise AuthenticationFailed(
            f"{self.name}: authentication failed for user {self.user!r}; tried: "
            f"{'; '.join(tried) or 'no keys (no agent, no identity file found)'}",
            hint=(f"add one of these public keys to ~{self.user}/.ssh/authorized_keys on the "
                  "host, or pass the right identity file"))

    def _candidate_keys(self, agent: sshlib.Agent | None,
                        tried: list[str]) -> list[tuple[str, sshlib.PKey]]:
        """Keys to offer, labelled by path/fingerprint (never key material); keys that
        cannot be loaded are noted in ``tried`` and skipped."""
        keys: list[tuple[str, sshlib.PKey]] = []
        paths = list(self.identities)
        for path in paths:
            keys.extend(_load_identity(path, tried))
        if agent is not None:
            try:
                for key in agent.get_keys():
                    keys.append((f"agent key {key.get_name()} {key.fingerprint}", key))
            except sshlib.SSHException as err:
                tried.append(f"agent (unusable: {_oneline(err)})")
        if not self.identities_only and not paths:
            for name in DEFAULT_IDENTITIES:
                path = Path.home() / ".ssh" / name
                if path.exists():
                    keys.extend(_load_identity(path, tried))
        return keys

    # -- commands -----------------------------------------------------------------------
    def _remote_line(self, line: str, timeout: float | None = None) -> str:
        """The exec request for ``line``: sshd hands it to the login shell, and `exec sh -c`
        pins a POSIX sh (no login files; but Debian's bash,
        as login shell, still sources ~/.bashrc for commands run by sshd).
        With ``timeout``, coreutils `timeout` (when the host has it) SIGKILLs the
        command's process group shortly after our deadline: OpenSSH refuses "signal"
        requests in root sessions, and closing the channel alone kills nothing."""
        sudo = self._sudo_mode() if self._sudo else ""
        if timeout is None:
            return f"exec {sudo}sh -c {shlex.quote(line)}"
        limit = f"{timeout + KILL_GRACE:.1f}s"
        guard = ('if command -v timeout >/dev/null 2>&1; then exec timeout -s KILL '
                 f'{limit} sh -c "$1"; else exec sh -c "$1"; fi')
        return f"exec {sudo}sh -c {shlex.quote(guard)} sh {shlex.quote(line)}"

    def _channel(self, line: str, timeout: float | None = None) -> sshlib.Channel:
        return start_command(self._connected, self._remote_line(line, timeout), self.name,
                             self.connect_timeout, self._send_become_password)

    def run(self, command: Command, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = False) -> CommandResult:
        """Run ``command`` (see :meth:`Transport.run`). stdout and stderr are read
        together, so neither can fill up and stall the command; ``input`` is fed from a
        thread and followed by EOF. Past ``timeout`` the command's process group gets
        SIGKILL, the channel is closed and RemoteTimeout raised. A connection that breaks
        meanwhile raises ConnectionLost. A command killed by a signal gets status 255."""
        line = render_command(command)
        started = time.monotonic()
        chan = self._channel(line, timeout)
        try:
            out, err, finished = collect_output(
                chan, input, None if timeout is None else started + timeout)
            if not finished:
                _signal(chan, "KILL")
                raise RemoteTimeout(
                    f"{self.name}: command timed out after {timeout:g}s and was killed: "
                    f"{line[:120]}", hint="raise the timeout or check why the command hangs")
            status = self._exit_status(chan, line)
        finally:
            quietly(chan.close)
        result = CommandResult(host=self.name, command=line, exit_status=status,
                               stdout=out, stderr=err,
                               duration=time.monotonic() - started)
        return result.check() if check else result

    def _exit_status(self, chan: sshlib.Channel, line: str) -> int:
        if chan.exit_status != -1:
            return chan.exit_status
        if self._transport is None or not self._transport.is_active():
            raise ConnectionLost(f"{self.name}: connection lost while running: {line[:120]}",
                                 hint="the host may have rebooted or the network dropped; "
                                      "run again")
        return 255  # closed without exit-status: killed by a signal (paramiko drops exit-signal)

    def open_process(self, command: Command) -> RemoteProcess:
        """Start ``command`` and return it with streaming stdin/stdout (see RemoteProcess);
        stderr is drained by a thread and the last 64 KiB kept."""
        line = render_command(command)
        chan = self._channel(line)
        transport = chan.get_transport()
        return ChannelProcess(
            self.name, line, chan, exit_status=lambda: self._exit_status(chan, line),
            lost=lambda: chan.exit_status == -1 and not transport.is_active(),
            interrupt=lambda: _signal(chan, "KILL"), idle_timeout=stream_idle_timeout())

    def _drop(self) -> None:
        for thing in (self._sftp, self._transport):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close()
        self._sftp = self._transport = None

    def close(self) -> None:
        """Close SFTP and the connection; idempotent."""
        with self._lock:
            self._drop()


def _signal(chan: sshlib.Channel, name: str) -> None:
    """Best effort: ask sshd to send signal ``name`` to the command's process group
    (OpenSSH ≥ 7.9, and not for root logins, which it runs without privilege
    separation)."""
    try:
        sshlib.send_signal(chan, name)
    except Exception:  # a dead connection has nothing left to signal
        log.debug("could not send signal %s", name, exc_info=True)


def _load_ssh_config(path: Path | None) -> sshlib.SSHConfig:
    target = path or Path.home() / ".ssh" / "config"
    if path is None and not target.exists():
        return sshlib.empty_ssh_config()
    try:
        return sshlib.read_ssh_config(target)
    except OSError as err:
        raise ConfigError(f"cannot read ssh config {target}: {err.strerror}") from None
    except Exception as err:  # paramiko's ConfigParseError and friends
        raise ConfigError(f"invalid ssh config {target}: {_oneline(err)}") from None


def _prefer_key_types(transport: sshlib.Connection, known_types: list[str]) -> None:
    """Negotiate a host key type we already know, as OpenSSH does; otherwise a host
    with several keys could present one we have never seen and look 'changed'."""
    wanted = [t for k in known_types
              for t in (("rsa-sha2-512", "rsa-sha2-256") if k == "ssh-rsa" else (k,))]
    sshlib.prefer_key_types(transport, wanted)


def _load_identity(path: Path, tried: list[str]) -> list[tuple[str, sshlib.PKey]]:
    try:
        key = sshlib.load_private_key(path)
    except sshlib.PasswordRequiredException:
        tried.append(f"{path} (passphrase-protected, skipped: load it into ssh-agent)")
        return []
    except FileNotFoundError:
        return []
    except Exception as err:
        tried.append(f"{path} (unreadable: {_oneline(err)[:80]})")
        return []
    return [(f"{path} ({key.get_name()} {key.fingerprint})", key)]


def _oneline(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
