"""A throwaway OpenSSH server for tests: its own host key, one authorized client key,
listening on 127.0.0.1 on a free port. Started with a deadline-bound poll for its
banner (no fixed sleeps), stopped by pid (the listener and its session children)."""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD_BINARY = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")  # sshd refuses to start without it


def keygen(path: Path, comment: str = "evacuate-test") -> Path:
    """Create an ed25519 key pair at ``path`` (+ ``.pub``) without passphrase."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SSHD:
    """One running sshd. ``known_hosts_line`` is what a correct known_hosts holds."""

    workdir: Path
    host: str = "127.0.0.1"
    port: int = 0
    user: str = field(default_factory=getpass.getuser)
    process: subprocess.Popen[bytes] | None = None
    extra_config: str = ""
    """sshd_config lines appended to the defaults (e.g. "MaxSessions 1")."""
    open_files: int | None = None
    """RLIMIT_NOFILE for sshd and its sessions (prlimit): a low one makes it refuse commands."""

    @property
    def host_key(self) -> Path:
        return self.workdir / "ssh_host_ed25519_key"

    @property
    def client_key(self) -> Path:
        return self.workdir / "id_ed25519"

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    @property
    def known_hosts_line(self) -> str:
        key_type, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[{self.host}]:{self.port} {key_type} {blob}\n"

    @property
    def spec(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def write_known_hosts(self, path: Path) -> Path:
        path.write_text(self.known_hosts_line)
        return path

    def start(self, timeout: float = 10.0) -> SSHD:
        """Generate keys and config, start sshd, return once it sends its banner."""
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        if not self.host_key.exists():
            keygen(self.host_key, "evacuate-test-host")
            keygen(self.client_key)
            (self.workdir / "authorized_keys").write_text(
                self.client_key.with_suffix(".pub").read_text())
        for _attempt in range(3):  # another process may grab the port in between
            self.port = free_port()
            config = self.workdir / "sshd_config"
            config.write_text(_CONFIG.format(port=self.port, host=self.host, dir=self.workdir)
                              + self.extra_config)
            limit = ([] if self.open_files is None
                     else ["prlimit", f"--nofile={self.open_files}", "--"])
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*limit, str(SSHD_BINARY), "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            if self._wait_for_banner(timeout):
                return self
            self.stop()
        raise RuntimeError(f"sshd did not start; log: {self.log.read_text()[-2000:]}")

    def _wait_for_banner(self, timeout: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-"):
                        return True
            except OSError:
                time.sleep(0.02)  # poll interval, bounded by the deadline
        return False

    def session_pids(self) -> list[int]:
        """Pids of every process descended from the listener (per-connection sshds...)."""
        if self.process is None:
            return []
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def kill_hard(self) -> None:
        """SIGKILL the listener and all its descendants: every connection drops at once."""
        pids = self.session_pids()
        if self.process is not None:
            self.process.kill()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.stop()

    def stop(self) -> None:
        """Stop the listener and its sessions (by pid); idempotent."""
        if self.process is None:
            return
        pids = self.session_pids()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process = None


_CONFIG = """\
Port {port}
ListenAddress {host}
HostKey {dir}/ssh_host_ed25519_key
AuthorizedKeysFile {dir}/authorized_keys
PidFile none
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
# Debian bash sources ~/.bashrc for commands run by sshd (SSH_SOURCE_BASHRC) unless
# SHLVL says it is nested; keep the test host independent of root's dotfiles.
SetEnv SHLVL=1
"""
