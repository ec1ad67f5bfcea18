"""Keep one lab host's systemd-nspawn running across reboots.

``systemd-nspawn --boot`` exits with status 133 when the container's systemd reboots
(``systemctl reboot`` inside it); a real machine would come back, so this loop starts
nspawn again with the same arguments. Any other exit status ends the loop with that
status. SIGTERM (how ``lab down`` powers a host off) is passed to nspawn, and the loop
then ends whatever nspawn's status.

Run as ``python3 .../evacuate/lab/supervise.py systemd-nspawn ARGS...`` (standard library
only, so it needs no installed package): its command line carries nspawn's, so that the
pid file check (``hosts.nspawn_pid``) holds for it too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

REBOOT_STATUS = 133
MAX_REBOOTS_PER_MINUTE = 10


def supervise(command: list[str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    starts: list[float] = []
    while True:
        starts = [t for t in starts if time.monotonic() - t < 60] + [time.monotonic()]
        if stopping:
            return 0
        child = subprocess.Popen(command)
        status = child.wait()
        if stopping or status != REBOOT_STATUS:
            return status
        if len(starts) >= MAX_REBOOTS_PER_MINUTE:  # a reboot loop: give up, like a watchdog
            print(f"supervise: {len(starts)} reboots in a minute, giving up", file=sys.stderr)
            return status
        print("supervise: the container rebooted; starting it again", file=sys.stderr, flush=True)


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python -m evacuate.lab.supervise COMMAND [ARGS...]", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(supervise(sys.argv[1:]))


if __name__ == "__main__":
    main()
