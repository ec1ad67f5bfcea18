"""``evacuate verify SOURCE TARGET``: prove the rebuilt server is the same server."""

from __future__ import annotations

from pathlib import Path

import typer

from evacuate.actions import verify as actions
from evacuate.cli import console
from evacuate.cli.app import app
from evacuate.cli.common import (
    AcceptNewOpt,
    ConfigOpt,
    IdentityOpt,
    JsonOpt,
    KnownHostsOpt,
    StateOpt,
    StoreOpt,
    make_context,
)
from evacuate.cli.verify_render import render_report
from evacuate.errors import ExitCode
from evacuate.snapshot.open import open_repository
from evacuate.verify.after_reboot import verification_to_json
from evacuate.verify.engine import VerifyOptions
from evacuate.verify.files import DEFAULT_SAMPLE
from evacuate.verify.html_report import write_html
from evacuate.verify.junit import write_junit
from evacuate.verify.model import report_to_json
from evacuate.verify.reboot import DEFAULT_REBOOT_TIMEOUT


@app.command("verify")
def verify(
    source: str = typer.Argument(..., help="The source host (evacuate.yml name or SSH spec) "
                                           "whose snapshot is the reference."),
    target: str = typer.Argument(..., help="The host to verify (name or SSH spec)."),
    snapshot: str = typer.Option("latest", "--snapshot", help="Snapshot id (or prefix) "
                                                              "of SOURCE, or 'latest'."),
    store: str | None = StoreOpt,
    full: bool = typer.Option(False, "--full", help="Hash every data file, not a sample of "
                                                    f"{DEFAULT_SAMPLE}."),
    sample: int = typer.Option(DEFAULT_SAMPLE, "--sample", min=0,
                               help="How many data files to hash when not --full."),
    address: str | None = typer.Option(None, "--address", help="Address the controller "
                                       "reaches TARGET at for HTTP/TCP checks (default: its "
                                       "SSH host)."),
    offline_source: bool = typer.Option(False, "--source-gone", help="Never contact SOURCE: "
                                        "compare web pages with the snapshot only."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write JUnit XML here."),
    html: Path | None = typer.Option(None, "--html", help="Also write a self-contained "
                                                          "HTML report here."),
    show_all: bool = typer.Option(False, "--all", help="List passing checks too."),
    strict: bool = typer.Option(False, "--strict", help="Also exit 1 when something the "
                                "inventory saw is not verified (no check covers it)."),
    after_reboot: bool = typer.Option(False, "--after-reboot", help="Then reboot TARGET, wait "
                                      "for it to boot and verify again: a server that only "
                                      "works until its next boot fails. Never the source."),
    reboot_timeout: float = typer.Option(DEFAULT_REBOOT_TIMEOUT, "--reboot-timeout", min=1,
                                         help="Seconds TARGET has to boot again and settle."),
    config: Path | None = ConfigOpt, state_dir: Path | None = StateOpt,
    known_hosts: Path | None = KnownHostsOpt, identity: Path | None = IdentityOpt,
    accept_new: bool = AcceptNewOpt, as_json: bool = JsonOpt,
) -> None:
    """Check TARGET against what SOURCE was (its snapshot: inventory, files, dumps): packages,
    accounts, sudoers, cron, services, ports, config files, data, databases, web pages.
    Exit 1 if any check fails; what no check covers is listed as not verified (exit 1 with
    --strict)."""
    ctx = make_context(config, state_dir, known_hosts=known_hosts, identity=identity,
                       accept_new=accept_new)
    source_ref, target_ref = ctx.host(source), ctx.host(target)
    repo = open_repository(ctx.config, ctx.state, store, warn=console.warning_line)
    options = VerifyOptions(sample=sample, full=full)
    across = None
    if after_reboot:
        across = actions.verify_across_reboot(
            source_ref, target_ref, ctx.connect, repo, ctx.config, snapshot=snapshot,
            verify_options=options, target_address=address, source_reachable=not offline_source,
            reboot_timeout=reboot_timeout, progress=None if as_json else console.info_line,
            state=ctx.state)
        report = across.merged
    else:
        report = actions.verify_target(
            source_ref, target_ref, ctx.connect, repo, ctx.config, snapshot=snapshot,
            verify_options=options, target_address=address, source_reachable=not offline_source,
            state=ctx.state)
    saved = actions.save_report(ctx.state, report)
    if junit is not None:
        write_junit(report, junit)
    if html is not None:
        write_html(report, html)
    if as_json:
        console.print_json(verification_to_json(across) if across else report_to_json(report))
    else:
        render_report(report, show_all=show_all)
        if across is not None:
            console.info_line(across.summary())
        console.info_line(f"report saved to {saved}")
    if not report.passes(strict):
        raise typer.Exit(int(ExitCode.FAILURE))
