"""A throwaway SeaweedFS (``weed mini``): a real S3 server that checks SigV4 signatures,
on free 127.0.0.1 ports in a temp directory. Started with a deadline-bound poll for
an HTTP answer on its S3 port (no fixed sleeps), stopped by pid; restartable on the
same ports and data directory (to test a store whose endpoint went away)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

WEED_BINARY = Path(sys.executable).parent / "weed"
SERVICES = ("master", "volume", "filer", "s3", "admin")
GRPC_OFFSET = 10_000
SOCKET_DIR = Path("/tmp")  # some weed components assume grpc = http port + 10000


def free_port_pairs(count: int) -> list[int]:
    """Return ``count`` ports p for which p and p + GRPC_OFFSET were free a moment ago."""
    chosen: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(chosen) < count:
            pair = []
            try:
                for offset in (0, GRPC_OFFSET):
                    sock = socket.socket()
                    pair.append(sock)
                    # Below the kernel's ephemeral range (32768-60999 here), so that no
                    # outgoing connection takes a port between this check and weed's bind.
                    sock.bind(("127.0.0.1", random.randrange(10_000, 22_000) if offset == 0
                               else int(pair[0].getsockname()[1]) + offset))
            except OSError:
                for sock in pair:
                    sock.close()
                continue
            held.extend(pair)
            chosen.append(int(pair[0].getsockname()[1]))
        return chosen
    finally:
        for sock in held:
            sock.close()


class PortTaken(RuntimeError):
    """weed mini could not bind a port it was given."""


@dataclass
class SeaweedFS:
    """One ``weed mini`` process; ``endpoint`` is its S3 URL."""

    workdir: Path
    access_key: str = "evacuate-test"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(20))
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_offset: int = 0  # where this start's lines begin in the log
    ip: str = "127.0.0.1"  # where it listens (a lab's bridge address: its hosts reach it)

    @property
    def endpoint(self) -> str:
        return f"http://{self.ip}:{self.ports['s3.port']}"

    @property
    def log(self) -> Path:
        return self.workdir / "weed.log"

    def env(self) -> dict[str, str]:
        """The AWS_* variables a client needs (plus isolation from ~/.aws)."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": str(self.workdir / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-aws-credentials")}

    def start(self, timeout: float = 60.0) -> SeaweedFS:
        """Start weed on ``ports`` (free ones chosen when empty); when ports were chosen
        here and one was taken meanwhile by another process, choose again (twice)."""
        chosen_here = not self.ports
        for attempt in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                if not chosen_here or attempt == 2:
                    raise
                self.ports.clear()
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> SeaweedFS:
        if not self.ports:
            for service, port in zip(SERVICES, free_port_pairs(len(SERVICES)), strict=True):
                self.ports[f"{service}.port"] = port
                self.ports[f"{service}.port.grpc"] = port + GRPC_OFFSET
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        command = [str(WEED_BINARY), "mini", f"-dir={data}", f"-ip={self.ip}",
                   f"-ip.bind={self.ip}", "-master.telemetry=false", "-admin.ui=false",
                   "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                   *(f"-{name}={port}" for name, port in self.ports.items())]
        # TMPDIR keeps weed's own log files in the work directory.
        env = {**os.environ, **self.env(), "TMPDIR": str(self.workdir)}
        with self.log.open("ab") as log:
            self.log_offset = log.tell()
            self.process = subprocess.Popen(command, cwd=self.workdir, env=env,
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                said = self.log.read_bytes()[self.log_offset:]
                if b"address already in use" in said or b"is not available" in said:
                    raise PortTaken(f"a port of weed mini was taken; see {self.log}")
                raise RuntimeError(f"weed mini exited with {self.process.returncode}; "
                                   f"see {self.log}")
            # Serving means: S3 answers HTTP, and a volume server has joined the master
            # (before that, reads of existing objects fail after a restart).
            if self._http_get("s3.port", "/") is not None:
                status = self._http_get("master.port", "/dir/status")
                with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                    racks = json.loads(status or b"")["Topology"]["DataCenters"][0]["Racks"]
                    if racks[0]["DataNodes"]:
                        return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"weed mini did not serve S3 within {timeout:.0f} s; see {self.log}")

    def _http_get(self, port: str, path: str) -> bytes | None:
        """Return the body of any HTTP answer, or None if there is none (yet)."""
        connection = http.client.HTTPConnection(self.ip, self.ports[port], timeout=2)
        try:
            connection.request("GET", path)
            return connection.getresponse().read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Stop the server (its whole process group), killing it after ``timeout``."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        # weed leaves its local sockets in /tmp whatever TMPDIR says: remove ours.
        for port in self.ports.values():
            for path in SOCKET_DIR.glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    path.unlink()

    def restart(self) -> SeaweedFS:
        """Start again on the same ports and data (after stop)."""
        self.stop()
        return self.start()
