"""The source is powered off during plan and run.

A run streams everything from the store once its snapshot is taken, so a source that goes
away after that step does not stop it: the run completes and verifies. A run (or a plan)
that needs the source while it is off fails in one line, exit 4, no traceback, and the hint
names the last snapshot, its age and the ``evacuate restore`` that rebuilds from it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from evacuate.lab.lab import Lab
from tests.lab.test_run_lab import evacuate, write_config


def _config(lab: Lab, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_config(lab, folder)


def _one_clear_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The failure's error line and hint, after checking there is one error and no traceback."""
    assert proc.returncode == 4, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    hints = [line for line in proc.stderr.splitlines() if line.startswith("hint:")]
    return errors[0] + "\n" + "\n".join(hints)


def _snapshot_done(journal: Path) -> bool:
    try:
        return json.loads(journal.read_text())["steps"]["snapshot"]["status"] == "done"
    except (OSError, ValueError, KeyError, TypeError):
        return False


def test_the_source_powered_off_during_plan_and_run(lab: Lab, tmp_path: Path) -> None:
    lab.reset("lab-source")
    lab.reset("lab-target")
    config = _config(lab, tmp_path / "kept")
    empty = _config(lab, tmp_path / "empty")
    try:
        planned = evacuate(config, "plan", "source", "--to", "target", "--json")
        assert planned.returncode == 0, planned.stderr
        journal = tmp_path / "kept" / "state" / "plans" / json.loads(planned.stdout)["name"] \
            / "journal.json"
        run = subprocess.Popen([sys.executable, "-m", "evacuate", "run", "-c", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            while not _snapshot_done(journal) and run.poll() is None:
                time.sleep(0.2)
            lab.stop("lab-source")  # pulled from the wall once the snapshot is in the store
            out, err = run.communicate(timeout=900)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == 0, err[-3000:]
        assert "done" in out and "Traceback" not in out + err

        # a new run needs a fresh snapshot, a plan without any snapshot needs the source
        again = _one_clear_line(evacuate(config, "run"))
        assert "source" in again and "unreachable" in again
        assert "evacuate restore source --to target" in again and " old" in again
        assert "evacuate run --snapshot latest" in again
        nothing = _one_clear_line(evacuate(empty, "plan", "source", "--to", "target"))
        assert "no snapshot of source" in nothing and "--to" not in nothing

        # a plan from the last snapshot does not need the source
        replanned = evacuate(config, "plan", "source", "--to", "target")
        assert replanned.returncode == 0, replanned.stderr
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")
