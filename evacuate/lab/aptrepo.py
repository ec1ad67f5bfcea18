"""Serve the lab's apt repository on the bridge address (containers reach no registry).

A tiny static HTTP server (python -m http.server) bound to the bridge IP only,
started detached with a pid file so that ``lab down`` can stop it from any process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from evacuate.errors import LabError

FIXED_PORT = 80
"""Every lab also serves its repositories on port 80 of its own bridge address."""


def repo_port(index: int) -> int:
    return 8765 + index


def serve(repo: Path, address: str, port: int, pid_file: Path, log_file: Path) -> int:
    """Start serving ``repo`` at http://address:port/ unless already running; return the pid."""
    running = server_pid(pid_file)
    if running is not None:
        return running
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", address,
             "--directory", str(repo)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    pid_file.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=0.5):
            return proc.pid
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise LabError(f"the lab apt repository did not start on {address}:{port}",
                   hint=f"see {log_file}")


def server_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    return pid if b"http.server" in cmdline else None


def stop(pid_file: Path) -> None:
    pid = server_pid(pid_file)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)


def signed_repository(root: Path, suite: str, debs: list[Path], gnupg_home: Path) -> Path:
    """Lay out a signed repository of ``debs`` under ``root`` (``dists/<suite>/main``,
    Origin and Label ``suite``, InRelease signed with the first secret key in
    ``gnupg_home``); return the public keyring (binary, for Signed-By)."""
    import hashlib
    import shutil

    pool = root / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        shutil.copy(deb, pool / deb.name)
    index = subprocess.run(["dpkg-scanpackages", "--multiversion", "pool", "/dev/null"],
                           cwd=root, capture_output=True, check=True).stdout
    dist = root / "dists" / suite
    binary = dist / "main" / "binary-amd64"
    binary.mkdir(parents=True, exist_ok=True)
    (binary / "Packages").write_bytes(index)
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    (dist / "Release").write_text(
        f"Origin: {suite}\nLabel: {suite}\nSuite: {suite}\nCodename: {suite}\nDate: {date}\n"
        "Architectures: amd64 all\nComponents: main\nSHA256:\n"
        f" {hashlib.sha256(index).hexdigest()} {len(index)} main/binary-amd64/Packages\n")
    gpg = ["gpg", "--homedir", str(gnupg_home), "--batch", "--yes", "--pinentry-mode",
           "loopback", "--passphrase", ""]
    subprocess.run([*gpg, "--clearsign", "-o", str(dist / "InRelease"), str(dist / "Release")],
                   capture_output=True, check=True)
    keyring = root / "keyring.gpg"
    keyring.write_bytes(subprocess.run([*gpg, "--export"], capture_output=True,
                                       check=True).stdout)
    return keyring


def make_signing_key(gnupg_home: Path, name: str) -> None:
    """A new ed25519 signing key without passphrase in ``gnupg_home``."""
    gnupg_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    subprocess.run(["gpg", "--homedir", str(gnupg_home), "--batch", "--pinentry-mode",
                    "loopback", "--passphrase", "", "--quick-gen-key", name, "ed25519", "sign",
                    "never"], capture_output=True, check=True)
