"""Noticing a dead connection: a network that drops silently never ends a TCP read, so
evacuate asks the server for a sign of life and gives up on quiet streams itself."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

log = logging.getLogger(__name__)
IDLE_ENV = "EVACUATE_STREAM_IDLE_TIMEOUT"
KEEPALIVE_ENV = "EVACUATE_KEEPALIVE"


def watchdog(transport: Any, name: str) -> None:
    """Ask the server for a reply every N seconds (default 15; $EVACUATE_KEEPALIVE); when
    none comes within N more, close the connection, so that every read and write on it
    ends with ConnectionLost instead of waiting for TCP to give up (many minutes)."""
    try:
        interval = max(0.5, float(os.environ.get(KEEPALIVE_ENV, "15")))
    except ValueError:
        interval = 15.0
    while transport.is_active():
        time.sleep(interval)
        if not transport.is_active():
            return
        answered = threading.Event()
        threading.Thread(target=_ask, args=(transport, answered), daemon=True).start()
        if not answered.wait(interval):
            log.warning("%s: no answer to a keepalive within %.0f s: closing", name, interval)
            transport.close()
            return


def stream_idle_timeout() -> float:
    """Seconds a stream may go without a byte before it counts as broken (default 300)."""
    try:
        return max(1.0, float(os.environ.get(IDLE_ENV, "300")))
    except ValueError:
        return 300.0


def _ask(transport: Any, answered: threading.Event) -> None:
    with contextlib.suppress(Exception):
        transport.global_request("keepalive@openssh.com", wait=True)
    answered.set()
