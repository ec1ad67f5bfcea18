"""``evacuate lab up | down | status | ssh``: the lab of real test hosts."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import typer

from evacuate.actions import lab as actions
from evacuate.cli import console
from evacuate.cli.app import app
from evacuate.errors import ExitCode
from evacuate.lab.lab import HostStatus, Lab

lab_app = typer.Typer(help="The lab: real Debian hosts (systemd-nspawn) to rehearse on.",
                      no_args_is_help=True)
app.add_typer(lab_app, name="lab")

StateOpt = typer.Option(None, "--state-dir", envvar="EVACUATE_STATE_DIR",
                        help="State directory (default ./.evacuate).")
LabIdOpt = typer.Option("evac", "--lab-id", envvar="EVACUATE_LAB_ID",
                        help="Name prefix of this lab's namespaces, links and machines.")
IndexOpt = typer.Option(0, "--index", envvar="EVACUATE_LAB_INDEX", min=0, max=254,
                        help="Subnet index: the lab uses 10.231.INDEX.0/24.")
SuiteOpt = typer.Option("bookworm", "--suite", envvar="EVACUATE_LAB_SUITE",
                        help="Debian release of the lab hosts.")
JsonOpt = typer.Option(False, "--json", help="Print JSON to stdout instead of tables.")


def _lab(state_dir: Path | None, lab_id: str, index: int, suite: str) -> Lab:
    return actions.make_lab(state_dir, lab_id, index, suite,
                            progress=lambda msg: console.info_line(f"lab: {msg}"))


def _render(statuses: list[HostStatus], as_json: bool, lab: Lab) -> int:
    healthy = all(s.healthy for s in statuses)
    if as_json:
        console.print_json({"healthy": healthy, "hosts": [asdict(s) | {"healthy": s.healthy}
                                                          for s in statuses]})
    else:
        rows = []
        for s in statuses:
            services = " ".join(
                f"{console.escape(name)}:{'[green]' if state == 'active' else '[red]'}"
                f"{console.escape(state)}[/]" for name, state in s.services.items())
            rows.append((s.name, s.address, console.markup(console.status_mark(s.healthy)),
                         s.system_state,
                         console.markup(services) if services else (s.error or "-")))
        table = console.table("lab hosts", ("host", "address", "health", "systemd", "services"),
                              rows)
        console.out().print(table)
        console.out().print(console.escape(f"ssh: ssh -F {lab.ssh_config} lab-source   "
                                           f"(known_hosts: {lab.known_hosts})"))
    return int(ExitCode.OK if healthy else ExitCode.FAILURE)


@lab_app.command("up")
def up(state_dir: Path | None = StateOpt, lab_id: str = LabIdOpt, index: int = IndexOpt,
       suite: str = SuiteOpt, timeout: float = typer.Option(180.0, help="Seconds to wait for readiness."),
       as_json: bool = JsonOpt) -> None:
    """Build (once, cached) and start lab-source and lab-target; wait until they are ready."""
    lab = _lab(state_dir, lab_id, index, suite)
    raise typer.Exit(_render(actions.lab_up(lab, timeout), as_json, lab))


@lab_app.command("down")
def down(state_dir: Path | None = StateOpt, lab_id: str = LabIdOpt, index: int = IndexOpt,
         suite: str = SuiteOpt) -> None:
    """Stop every lab host and remove its mounts, namespaces, links and processes."""
    removed = actions.lab_down(_lab(state_dir, lab_id, index, suite))
    console.info_line(f"lab: removed {', '.join(removed) if removed else 'nothing (not running)'}")


@lab_app.command("status")
def status(state_dir: Path | None = StateOpt, lab_id: str = LabIdOpt, index: int = IndexOpt,
           suite: str = SuiteOpt, as_json: bool = JsonOpt) -> None:
    """Show each lab host, its address, systemd state and services. Exit 1 if unhealthy."""
    lab = _lab(state_dir, lab_id, index, suite)
    raise typer.Exit(_render(actions.lab_status(lab), as_json, lab))


@lab_app.command("ssh", context_settings={"allow_extra_args": True,
                                          "ignore_unknown_options": True})
def ssh(ctx: typer.Context, host: str = typer.Argument(..., help="lab-source or lab-target"),
        state_dir: Path | None = StateOpt, lab_id: str = LabIdOpt, index: int = IndexOpt,
        suite: str = SuiteOpt) -> None:
    """Open a root shell (or run a command) on a lab host with OpenSSH."""
    lab = _lab(state_dir, lab_id, index, suite)
    name = lab.host(host).name
    os.execvp("ssh", ["ssh", "-F", str(lab.ssh_config), name, *ctx.args])


@lab_app.command("images")
def build_images(suite: str = SuiteOpt,
                 rebuild: bool = typer.Option(False, help="Build again even if cached.")) -> None:
    """Build the lab images once; later runs reuse the cache (/var/cache/evacuate/lab)."""
    from evacuate.lab import images

    for spec in (images.source_image(suite), images.target_image(suite)):
        cached = (images.image_path(spec) / ".complete").exists() and not rebuild
        console.info_line(f"lab: image {spec.name} ({suite}): {'cached' if cached else 'building'}")
        built = images.ensure_image(spec, rebuild=rebuild)
        console.info_line(f"lab: image {spec.name} ({suite}): {built.rootfs}")


@lab_app.command("reset")
def reset(host: str = typer.Argument(..., help="lab-source or lab-target"),
          state_dir: Path | None = StateOpt, lab_id: str = LabIdOpt, index: int = IndexOpt,
          suite: str = SuiteOpt) -> None:
    """Throw away every change on one lab host and boot it fresh from its image."""
    lab = _lab(state_dir, lab_id, index, suite)
    status = lab.reset(host)
    console.info_line(f"lab: {status.name} reset ({status.system_state})")
