"""Hooks (evacuate.hooks): evacuate.yml's commands run on the controller with the host's
names in their environment, on the source only when they say so, and a failing one stops
its step with its output kept (the log, the error, the journal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.actions.plan import hook_warnings
from evacuate.config.load import config_from_data
from evacuate.config.model import Hook, HookSettings
from evacuate.errors import ConfigError, ExitCode
from evacuate.hooks import ENVIRONMENT, HookContext, HookFailed, HookRunner, hook_runner
from evacuate.rebuild.journal import Journal, StepStatus
from evacuate.transport.base import Command, CommandResult
from evacuate.transport.local import LocalTransport
from evacuate.yamlio import load_document

CONTEXT = HookContext(host="web1", target="new1", plan="web1-to-new1", snapshot_id="s-1")


class RecordingSource(LocalTransport):
    """The controller standing in for a source, recording what ran 'on' it."""

    def __init__(self) -> None:
        super().__init__(name="root@web1:22")
        self.commands: list[Command] = []

    def run(self, command: Command, **kwargs: object) -> CommandResult:  # type: ignore[override]
        self.commands.append(command)
        return super().run(command, **kwargs)  # type: ignore[arg-type]


def runner(tmp_path: Path, **events: tuple[Hook, ...]) -> HookRunner:
    return HookRunner(HookSettings(**events), tmp_path / "logs", tmp_path / "state",
                      workdir=tmp_path)


def test_a_controller_hook_gets_the_hosts_names(tmp_path: Path) -> None:
    env = tmp_path / "env.txt"
    hooks = runner(tmp_path, after_snapshot=(Hook(f"env | grep ^EVACUATE_ | sort > {env}; "
                                                  "pwd > where.txt"),))
    assert hooks.run("after_snapshot", CONTEXT) == 1
    seen = dict(line.split("=", 1) for line in env.read_text().splitlines())
    assert seen == {"EVACUATE_HOOK": "after_snapshot", "EVACUATE_HOOK_ON": "controller",
                    "EVACUATE_HOST": "web1", "EVACUATE_TARGET": "new1",
                    "EVACUATE_PLAN": "web1-to-new1", "EVACUATE_SNAPSHOT_ID": "s-1",
                    "EVACUATE_STATE_DIR": str(tmp_path / "state")}
    assert set(seen) == set(ENVIRONMENT)
    assert (tmp_path / "where.txt").read_text().strip() == str(tmp_path)  # evacuate.yml's dir
    assert "after_snapshot[0] on the controller" in (tmp_path / "logs" / "web1.log").read_text()


def test_hooks_of_other_events_do_not_run(tmp_path: Path) -> None:
    hooks = runner(tmp_path, before_cutover=(Hook("touch ran"),))
    assert hooks.run("after_run", CONTEXT) == 0
    assert not (tmp_path / "ran").exists()


def test_a_failing_hook_stops_with_its_output_in_one_line(tmp_path: Path) -> None:
    hooks = runner(tmp_path, before_snapshot=(
        Hook("echo preparing; echo 'the app refused' >&2; exit 3"), Hook("touch second")))
    with pytest.raises(HookFailed) as failed:
        hooks.run("before_snapshot", CONTEXT)
    err = failed.value
    assert "\n" not in str(err)
    assert str(err).startswith("hook before_snapshot[0] on the controller (echo preparing;")
    assert str(err).endswith("failed: exit status 3: the app refused")
    assert "preparing" in err.output and "the app refused" in err.output
    assert err.exit_code is ExitCode.FAILURE
    assert err.hint is not None and str(tmp_path / "logs" / "web1.log") in err.hint
    assert not (tmp_path / "second").exists(), "the hooks after a failed one do not run"
    log = (tmp_path / "logs" / "web1.log").read_text()
    assert "exit status 3" in log and "the app refused" in log


def test_a_hook_past_its_timeout_is_killed_and_fails(tmp_path: Path) -> None:
    hooks = runner(tmp_path, after_run=(Hook("sleep 30", timeout=0.2),))
    with pytest.raises(HookFailed, match=r"no end within 0\.2 s"):
        hooks.run("after_run", CONTEXT)


def test_a_source_hook_runs_only_on_the_source(tmp_path: Path) -> None:
    source = RecordingSource()
    hooks = runner(tmp_path, before_cutover=(Hook("echo $EVACUATE_HOOK_ON",
                                                  on="source"),))
    assert hooks.on_source("before_cutover") and not hooks.on_source("after_run")
    assert hooks.run("before_cutover", CONTEXT, source) == 1
    assert len(source.commands) == 1
    assert "EVACUATE_HOOK_ON=source" in source.commands[0]
    assert not any(str(tmp_path) in str(c) for c in source.commands), \
        "no cd and no controller path on the source"
    assert "on the source (echo $EVACUATE_HOOK_ON): ok\nsource\n" in \
        (tmp_path / "logs" / "web1.log").read_text()


def test_a_source_hook_without_a_source_is_skipped_with_a_warning(tmp_path: Path) -> None:
    said: list[str] = []
    hooks = HookRunner(HookSettings(after_run=(Hook("rm -rf /tmp/x", on="source"),)),
                       warn=said.append)
    assert hooks.run("after_run", CONTEXT, None) == 0
    assert said and "not reachable" in said[0]


def test_the_config_reads_hooks_and_on_stays_a_key(tmp_path: Path) -> None:
    text = ("hooks:\n  before_cutover:\n    - run: touch /var/www/maintenance\n"
            "      on: source\n  after_run:\n    - run: ./notify.sh\n      timeout: 30\n")
    data, _ = load_document(text)
    config = config_from_data(data, tmp_path / "evacuate.yml")
    assert config.hooks.before_cutover == (Hook("touch /var/www/maintenance", "source"),)
    assert config.hooks.after_run == (Hook("./notify.sh", "controller", 30.0),)
    made = hook_runner(config)
    assert made.log_dir == config.state_dir / "logs" / "hooks"
    assert made.workdir == tmp_path
    with pytest.raises(ConfigError) as bad:
        config_from_data({"hooks": {"before_run": [{"run": "x"}],
                                    "after_run": [{"run": "x", "on": "target"}]}},
                         tmp_path / "evacuate.yml")
    problems = "\n".join(bad.value.problems)
    assert "hooks" in problems and "before_run" in problems and "after_run[0].on" in problems


def test_the_plan_names_every_hook_on_the_source(tmp_path: Path) -> None:
    config = config_from_data({"hooks": {
        "before_cutover": [{"run": "touch /var/www/maintenance", "on": "source"}],
        "after_run": [{"run": "echo done"}]}}, tmp_path / "evacuate.yml")
    warnings = hook_warnings(config)
    assert [w.code for w in warnings] == ["hook-on-source"]
    assert "before_cutover[0] runs on the source: touch /var/www/maintenance" in \
        warnings[0].message
    assert hook_warnings(None) == []


def test_the_journal_keeps_a_failed_steps_output(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.json", "p", resume=False)
    journal.failed("snapshot", "hook before_snapshot[0] failed: exit status 3", "boom\n")
    again = Journal.read(tmp_path / "journal.json", "p")
    assert again is not None
    entry = again.entry("snapshot")
    assert entry is not None and entry.status is StepStatus.FAILED
    assert entry.output == "boom\n" and "exit status 3" in (entry.detail or "")
    assert not again.done("snapshot"), "a resume runs the step again"
