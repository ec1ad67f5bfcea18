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
