"""P1 and P2 on the second lab source, lab-mail (Postfix, Dovecot, OpenDKIM, Roundcube on
Apache, redis, SQLite; evacuate.lab.shapes.mail_lab), booted in a lab of its own: the same
anchors as on lab-source (Ansible's fact gathering with pipelining; ssh tar alongside the
native dumps, here redis-cli --rdb and sqlite3's .backup)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench import p1_inventory, p2_snapshot
from bench.harness import Figure
from evacuate.lab.lab import Lab
from evacuate.lab.shapes import mail_lab
from evacuate.state import StateDir

MAIL_LAB = (os.environ.get("EVACUATE_BENCH_MAIL_LAB_ID", "evm"),
            int(os.environ.get("EVACUATE_BENCH_MAIL_LAB_INDEX", "7")))
HOST = "lab-mail"


def measure(_lab: Lab, rounds: int) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    lab = Lab(mail_lab(*MAIL_LAB), StateDir(work / "lab"))
    try:
        lab.down()
        lab.up(timeout=300)
        return [p1_inventory.measure(lab, rounds, HOST, "P1-mail"),
                p2_snapshot.measure(lab, rounds, HOST, "P2-mail")]
    finally:
        lab.down()
        shutil.rmtree(work, ignore_errors=True)
