"""Notifications through Apprise, against an HTTP endpoint this test starts on 127.0.0.1 (a
json:// URL whose password the endpoint must receive and evacuate must never print): status
tells about stale snapshots, a scheduled (--notify) snapshot and a rehearsal tell about their
failure. No lab: the hosts are addresses nothing answers on, the store a local directory."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evacuate.actions.restore import schedule_line
from evacuate.notify import Notice, send, shown_url
from evacuate.state import StateDir

SECRET = "s3cret-Token-42"


class Endpoint:
    """A local webhook: every POST is kept as (path, authorization, JSON body)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, object]]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                endpoint.received.append((self.path, self.headers.get("Authorization", ""),
                                          body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://evacuate:{SECRET}@127.0.0.1:{self.port}/alerts"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def _config(folder: Path, urls: list[str], extra: str = "") -> Path:
    config = folder / "evacuate.yml"
    listed = "".join(f"    - {json.dumps(u)}\n" for u in urls)
    # 127.0.0.1:9: nothing listens there, so the host cannot be reached
    config.write_text(f"state_dir: {folder / 'state'}\n"
                      f"hosts:\n  web1:\n    ssh: root@127.0.0.1:9\n"
                      f"store:\n  url: {folder / 'store'}\n  key_file: {folder / 'key'}\n"
                      f"snapshot:\n  max_age: 1h\nnotify:\n  urls:\n{listed}{extra}")
    (folder / "store").mkdir(exist_ok=True)
    (folder / "key").write_text("b" * 64 + "\n")
    (folder / "key").chmod(0o600)
    return config


def _evacuate(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, EVACUATE_CONFIG=str(config)))


def _authorized(authorization: str) -> bool:
    expected = base64.b64encode(f"evacuate:{SECRET}".encode()).decode()
    return authorization == f"Basic {expected}"


def test_status_notifies_stale_snapshots(endpoint: Endpoint, tmp_path: Path) -> None:
    config = _config(tmp_path, [endpoint.url])
    shown = _evacuate(config, "status")
    assert shown.returncode == 1, shown.stderr
    assert len(endpoint.received) == 1
    path, authorization, body = endpoint.received[0]
    assert path == "/alerts" and _authorized(authorization)
    assert body["title"] == "evacuate: stale snapshots: web1"
    assert "No snapshot younger than 1:00:00 of: web1" in str(body["message"])
    assert body["type"] == "warning"
    assert SECRET not in shown.stdout + shown.stderr


def test_stale_notices_can_be_turned_off(endpoint: Endpoint, tmp_path: Path) -> None:
    config = _config(tmp_path, [endpoint.url], "  on_stale: false\n")
    assert _evacuate(config, "status").returncode == 1
    assert endpoint.received == []


def test_status_notifies_when_the_store_fails(endpoint: Endpoint, tmp_path: Path) -> None:
    config = _config(tmp_path, [endpoint.url])
    (tmp_path / "store").rmdir()
    shown = _evacuate(config, "status")
    assert shown.returncode == 7, shown.stderr
    assert [b["title"] for _p, _a, b in endpoint.received] == \
        ["evacuate status failed: the snapshot store"]
    assert "no such store directory" in str(endpoint.received[0][2]["message"])


def test_a_scheduled_snapshot_that_fails_notifies(endpoint: Endpoint, tmp_path: Path) -> None:
    config = _config(tmp_path, [endpoint.url])
    line = schedule_line("web1", "15m", config, StateDir(tmp_path / "state"))
    assert " snapshot web1 --notify " in line  # what the cron line runs
    taken = _evacuate(config, "snapshot", "web1", "--notify")
    assert taken.returncode == 4, taken.stderr  # the host cannot be reached
    assert len(endpoint.received) == 1
    _path, authorization, body = endpoint.received[0]
    assert _authorized(authorization) and body["type"] == "failure"
    assert body["title"] == "evacuate snapshot failed: web1"
    assert "127.0.0.1" in str(body["message"])
    assert SECRET not in taken.stdout + taken.stderr
    plain = _evacuate(config, "snapshot", "web1")  # by hand, without --notify: nobody is told
    assert plain.returncode == 4 and len(endpoint.received) == 1


def test_a_failed_rehearsal_notifies(endpoint: Endpoint, tmp_path: Path) -> None:
    config = _config(tmp_path, [endpoint.url])
    rehearsed = _evacuate(config, "rehearse", "web1", "--target", "root@127.0.0.1:9",
                          "--reports", str(tmp_path / "reports"), "--no-reboot")
    assert rehearsed.returncode == 1, rehearsed.stderr
    assert len(endpoint.received) == 1
    body = endpoint.received[0][2]
    assert body["title"] == "evacuate rehearse failed: web1" and body["type"] == "failure"
    assert "reports in" in str(body["message"])
    assert SECRET not in rehearsed.stdout + rehearsed.stderr


def test_an_unreachable_or_bad_url_is_named_without_its_secret(
        endpoint: Endpoint, tmp_path: Path) -> None:
    closed = f"json://evacuate:{SECRET}@127.0.0.1:9/alerts"  # nothing listens on port 9
    config = _config(tmp_path, [closed, f"nosuchservice://{SECRET}@x", endpoint.url])
    shown = _evacuate(config, "status")
    assert shown.returncode == 1
    output = shown.stdout + shown.stderr
    assert "notification to notify.urls[0] (json://…) failed" in output
    assert "notification to notify.urls[1] (nosuchservice://…) failed: not an Apprise URL" \
        in output
    assert len(endpoint.received) == 1, "the others are still told"
    assert SECRET not in output


def test_send_reports_each_url(endpoint: Endpoint) -> None:
    done = send([endpoint.url, "not a url"], Notice("failure", "t", "b"))
    assert [d.ok for d in done] == [True, False]
    assert shown_url(0, endpoint.url) == "notify.urls[0] (json://…)"
    assert SECRET not in repr(done)
