"""Hooks: evacuate.yml's commands around a host's steps (before/after snapshot, before/after
cutover, after run), on the controller or, only when a hook says ``on: source``, on the source
(the one exception to read-only; the plan names each such hook).

A hook runs as ``env EVACUATE_...=... sh -c COMMAND`` through a transport: the controller's
own (LocalTransport, in evacuate.yml's directory) or the source's (as the SSH user, root
through sudo when the host says become). Its output (stdout and stderr) is appended to
``<state>/logs/hooks/<host>.log``; a hook that exits non-zero or times out raises
:class:`HookFailed`, whose message is one line and whose ``output`` the run's journal keeps.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evacuate.config.model import Config, Hook, HookEvent, HookSettings
from evacuate.errors import EvacuateError, RemoteTimeout, TransportError
from evacuate.transport.base import CommandResult, Transport
from evacuate.transport.local import LocalTransport

OUTPUT_KEPT = 4096
"""Characters of a failed hook's output kept in its error and the journal (the last ones)."""
ENVIRONMENT = ("EVACUATE_HOOK", "EVACUATE_HOOK_ON", "EVACUATE_HOST", "EVACUATE_TARGET",
               "EVACUATE_PLAN", "EVACUATE_SNAPSHOT_ID", "EVACUATE_STATE_DIR")
"""The variables every hook gets (empty when not known at that point)."""


class HookFailed(EvacuateError):
    """A hook exited non-zero or timed out; ``output``: the end of what it printed."""

    def __init__(self, message: str, *, output: str, event: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.output = output
        self.event = event


@dataclass(frozen=True)
class HookContext:
    """What a hook is told about the host it runs for."""

    host: str
    target: str = ""
    plan: str = ""
    snapshot_id: str = ""

    def with_snapshot(self, snapshot_id: str) -> HookContext:
        return HookContext(self.host, self.target, self.plan, snapshot_id)


@dataclass(frozen=True)
class HookRunner:
    """Runs the configured hooks of an event; ``log_dir`` receives their output (None: not
    kept), ``warn`` hears about hooks that could not run (their source is gone)."""

    hooks: HookSettings
    log_dir: Path | None = None
    state_dir: Path | None = None
    warn: Callable[[str], None] = lambda _m: None
    workdir: Path | None = None  # controller hooks run here (evacuate.yml's directory)

    def on_source(self, event: HookEvent) -> bool:
        """Whether a hook of ``event`` runs on the source (the caller connects to it)."""
        return any(h.on == "source" for h in self.hooks.of(event))

    def run(self, event: HookEvent, context: HookContext, source: Transport | None = None
            ) -> int:
        """Run the hooks of ``event`` in order; return how many ran. ``source``: the
        source's transport, for hooks ``on: source`` (None: the source is gone or a rescued
        disk: they are skipped with a warning). Raise HookFailed at the first that fails."""
        ran = 0
        for index, hook in enumerate(self.hooks.of(event)):
            where: Transport | None = LocalTransport() if hook.on == "controller" else source
            if where is None:
                self.warn(f"hook {event}[{index}] runs on the source, which is not reachable "
                          f"here: skipped ({_short(hook.run)})")
                continue
            self._run_one(event, index, hook, context, where)
            ran += 1
        return ran

    def _run_one(self, event: HookEvent, index: int, hook: Hook, context: HookContext,
                 where: Transport) -> None:
        values = (event, hook.on, context.host, context.target, context.plan,
                  context.snapshot_id,
                  str(self.state_dir or "") if hook.on == "controller" else "")
        argv = ["env", *(f"{k}={v}" for k, v in zip(ENVIRONMENT, values, strict=True)),
                "sh", "-c", hook.run]
        command: str | list[str] = argv
        if hook.on == "controller" and self.workdir is not None:
            command = f"cd {shlex.quote(str(self.workdir))} && {shlex.join(argv)}"
        started = time.time()
        named = f"hook {event}[{index}] on the {hook.on} ({_short(hook.run)})"
        try:
            result: CommandResult | None = where.run(command, timeout=hook.timeout)
            failure = None if result is None or result.ok else \
                f"exit status {result.exit_status}"
        except RemoteTimeout:
            result, failure = None, f"no end within {hook.timeout:g} s: killed"
        except TransportError as lost:
            result, failure = None, f"could not run: {lost}"
        output = "" if result is None else (result.stdout + result.stderr).decode(
            "utf-8", "replace")
        self._log(context.host, named, started, failure, output)
        if failure is not None:
            tail = output.strip().splitlines()[-1:] or [""]
            raise HookFailed(f"{named} failed: {failure}{': ' + tail[0] if tail[0] else ''}",
                             output=output[-OUTPUT_KEPT:], event=event,
                             hint=f"its output is in {self._log_file(context.host)}"
                             if self.log_dir is not None else None)

    def _log_file(self, host: str) -> Path:
        assert self.log_dir is not None
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in host) or "host"
        return self.log_dir / f"{safe}.log"

    def _log(self, host: str, named: str, started: float, failure: str | None,
             output: str) -> None:
        if self.log_dir is None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        with self._log_file(host).open("a", encoding="utf-8") as log:
            log.write(f"== {stamp} {named}: {failure or 'ok'}\n{output}")
            if output and not output.endswith("\n"):
                log.write("\n")


def hook_runner(config: Config | None, state_dir: Path | None = None,
                warn: Callable[[str], None] = lambda _m: None) -> HookRunner:
    """The hooks of ``config`` (none without one), logging under ``state_dir`` (default: the
    config's)."""
    if config is None:
        return HookRunner(HookSettings())
    state = state_dir or config.state_dir
    return HookRunner(config.hooks, state / "logs" / "hooks", state, warn,
                      config.path.parent)


def source_hook_lines(hooks: HookSettings) -> list[str]:
    """One sentence per hook that runs on the source, for the plan."""
    from evacuate.config.model import HOOK_EVENTS

    return [f"hook {event}[{i}] runs on the source: {_short(h.run, 120)} (the one thing "
            "evacuate runs there that may change it, because evacuate.yml says on: source)"
            for event in HOOK_EVENTS for i, h in enumerate(hooks.of(event)) if h.on == "source"]


def _short(command: str, width: int = 60) -> str:
    line = " ".join(command.split())
    return line if len(line) <= width else line[: width - 3] + "..."
