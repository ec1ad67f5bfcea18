"""Hooks on the lab: a real snapshot runs its before/after hooks (one on the controller, one
with on: source on lab-source itself, which the plan names), a real run ends with its
after_run hook, and a failing before_snapshot hook stops the run's snapshot step: one line,
exit 1, its output in the journal. A cutover whose before_cutover hook (on the source) fails
stops no service; once it passes, the cutover ends with its after_cutover hook."""

from __future__ import annotations

import json
from pathlib import Path

from evacuate.lab.lab import Lab
from tests.lab.test_run_lab import evacuate, write_config


def _with_hooks(config: Path, hooks: str) -> Path:
    config.write_text(config.read_text() + "hooks:\n" + hooks)
    return config


def _env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_a_snapshot_runs_its_hooks_on_the_controller_and_the_source(
        lab: Lab, tmp_path: Path) -> None:
    before = tmp_path / "before.env"
    config = _with_hooks(write_config(lab, tmp_path), (
        "  before_snapshot:\n"
        f"    - run: env | grep ^EVACUATE_ | sort > {before}\n"
        "  after_snapshot:\n"
        "    - run: " + json.dumps('echo "on $(cat /etc/hostname) for $EVACUATE_HOST: '
                               '$EVACUATE_SNAPSHOT_ID"') + "\n"
        "      on: source\n"))
    taken = evacuate(config, "snapshot", "source", "--json")
    assert taken.returncode == 0, taken.stderr[-3000:]
    snapshot = json.loads(taken.stdout)["id"]
    seen = _env(before)
    assert seen["EVACUATE_HOOK"] == "before_snapshot" and seen["EVACUATE_HOST"] == "source"
    assert seen["EVACUATE_SNAPSHOT_ID"] == ""  # not taken yet
    log = (tmp_path / "state" / "logs" / "hooks" / "source.log").read_text()
    assert f"on lab-source for source: {snapshot}\n" in log, log

    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr[-3000:]
    shown = [w for w in json.loads(planned.stdout)["warnings"] if w["code"] == "hook-on-source"]
    assert len(shown) == 1 and "after_snapshot[0] runs on the source" in shown[0]["message"]


def test_a_failing_hook_stops_its_step_and_the_run_and_cutover_hooks_run(
        lab: Lab, tmp_path: Path) -> None:
    lab.reset("lab-target")
    after = tmp_path / "after_run.env"
    base = write_config(lab, tmp_path).read_text()
    config = _with_hooks(tmp_path / "evacuate.yml", (
        "  after_run:\n"
        f"    - run: env | grep ^EVACUATE_ | sort > {after}\n"))
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr[-3000:]
    plan = json.loads(planned.stdout)

    config.write_text(base + "hooks:\n  before_snapshot:\n"
                      "    - run: " + json.dumps("echo freezing the app; "
                                            "echo 'cannot freeze the app' >&2; exit 4") + "\n")
    stopped = evacuate(config, "run")
    assert stopped.returncode == 1, stopped.stdout[-2000:] + stopped.stderr[-2000:]
    errors = [line for line in stopped.stderr.splitlines() if "hook before_snapshot" in line]
    assert len(errors) == 1, stopped.stderr[-3000:]
    assert "failed: exit status 4: cannot freeze the app" in errors[0]
    journal = json.loads((tmp_path / "state" / "plans" / plan["name"] / "journal.json")
                         .read_text())
    entry = journal["steps"]["snapshot"]
    assert entry["status"] == "failed", journal
    assert "freezing the app" in entry["output"] and "cannot freeze the app" in entry["output"]
    assert not after.exists()

    config.write_text(base + "hooks:\n  after_run:\n"
                      f"    - run: env | grep ^EVACUATE_ | sort > {after}\n")
    ran = evacuate(config, "run", "--resume")  # the failed snapshot step runs again
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = _env(after)
    assert seen["EVACUATE_HOOK"] == "after_run" and seen["EVACUATE_TARGET"] == "target"
    assert seen["EVACUATE_PLAN"] == plan["name"] and seen["EVACUATE_SNAPSHOT_ID"]
    journal = json.loads((tmp_path / "state" / "plans" / plan["name"] / "journal.json")
                         .read_text())
    assert journal["steps"]["snapshot"]["status"] == "done"
    assert journal["snapshot_id"] == seen["EVACUATE_SNAPSHOT_ID"]

    # a cutover whose before_cutover hook on the source fails stops nothing on the source
    config.write_text(base + "hooks:\n  before_cutover:\n"
                      "    - run: " + json.dumps("echo not now from $(cat /etc/hostname); exit 2")
                      + "\n      on: source\n"
                      "  after_cutover:\n"
                      f"    - run: env | grep ^EVACUATE_ | sort > {tmp_path / 'cut.env'}\n")
    refused = evacuate(config, "run", "--cutover", "--snapshot", "latest")
    assert refused.returncode == 1, refused.stderr[-3000:]
    assert "hook before_cutover[0] on the source" in refused.stderr
    assert "failed: exit status 2: not now from lab-source" in refused.stderr
    journal = json.loads((tmp_path / "state" / "plans" / plan["name"] / "journal.json")
                         .read_text())
    assert journal["steps"]["cutover"]["status"] == "failed"
    assert "not now from lab-source" in journal["steps"]["cutover"]["output"]
    with lab.open("lab-source") as source:
        assert source.run("systemctl is-active nginx notes").text.split() == ["active", "active"]

    config.write_text(config.read_text().replace("exit 2", "exit 0"))
    try:
        cut = evacuate(config, "run", "--cutover", "--snapshot", "latest")
        assert cut.returncode == 0, cut.stderr[-3000:] + cut.stdout[-2000:]
        seen = _env(tmp_path / "cut.env")
        assert seen["EVACUATE_HOOK"] == "after_cutover" and seen["EVACUATE_HOST"] == "source"
        journal = json.loads((tmp_path / "state" / "plans" / plan["name"] / "journal.json")
                             .read_text())
        assert journal["steps"]["cutover"]["status"] == "done"
        assert seen["EVACUATE_SNAPSHOT_ID"] == journal["steps"]["cutover"]["snapshot"]
    finally:
        evacuate(config, "revert")
        lab.reset("lab-source")
        lab.reset("lab-target")
