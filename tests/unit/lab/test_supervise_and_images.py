"""The lab's reboot supervisor with real processes (a child that exits 133 is started
again; any other status ends it; SIGTERM is passed on and ends it), and seed folders of
their own (lab-mail's files do not shape lab-source's image)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from evacuate.lab import hosts, images

CHILD = """
import pathlib, sys
counter = pathlib.Path(sys.argv[1])
runs = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(runs))
sys.exit(133 if runs < 3 else 7)
"""


def test_a_child_exiting_for_a_reboot_is_started_again(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    done = subprocess.run([sys.executable, str(hosts.SUPERVISOR), sys.executable, "-c", CHILD,
                           str(counter)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert counter.read_text() == "3"  # two reboots, then an exit of its own
    assert done.returncode == 7
    assert done.stderr.count("rebooted; starting it again") == 2


def test_sigterm_is_passed_on_and_ends_the_loop(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = ("import pathlib, signal, sys, time\n"
             "signal.signal(signal.SIGTERM, lambda *_: sys.exit(133))\n"
             f"pathlib.Path({str(ready)!r}).write_text('1')\n"
             "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, str(hosts.SUPERVISOR), sys.executable, "-c", child],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists()
    proc.send_signal(signal.SIGTERM)
    # the child exits 133 (as nspawn would for a reboot), but a stop is a stop
    assert proc.wait(timeout=30) == 133
    assert proc.stderr is not None and "starting it again" not in proc.stderr.read()


def test_seed_folders_of_their_own_shape_only_their_image() -> None:
    source, mail = images.source_image(), images.mail_image()
    assert "source.sh" in source.seed_files() and "mail.sh" not in source.seed_files()
    assert set(mail.seed_files()) == {"mail.sh", "mailstat.py", "mailstat.service"}
    assert mail.seed_script == "mail.sh" and source.seed_script == "source.sh"
    assert images.mail_image().cache_key() == mail.cache_key() != source.cache_key()
