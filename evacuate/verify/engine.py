"""Verify a target against what its source was: the snapshot's inventory and manifest.

:func:`verify_against_snapshot` is what ``verify``, and ``run``/``restore`` at their end,
call. It reads the target in a few batched round trips (the inventory script, one file
scan with checksums, one row count script, one loopback probe), asks the web servers from
the controller, and returns every check as data. An area that cannot be read becomes a
failed check naming the error; it never stops the other areas.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from evacuate.config.model import VerifySettings
from evacuate.errors import EvacuateError
from evacuate.inventory import HostInventory, collect_inventory, from_json
from evacuate.plan.model import RebuildPlan
from evacuate.plan.probe import parse_policy
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.store import BlobRef
from evacuate.stopwatch import Stopwatch
from evacuate.transport.base import Transport
from evacuate.verify import (
    accounts,
    answers,
    container_web,
    containers,
    coverage,
    databases,
    files,
    mail,
    package_modes,
    services,
    web,
)
from evacuate.verify.crossing import Crossing, crossing_of, missing_packages
from evacuate.verify.model import (
    Check,
    VerifyReport,
    apply_accepted,
    failed,
    skipped,
)

T = TypeVar("T")
R = TypeVar("R")
MAX_PAGE = 4 << 20  # larger index pages are not read back from the snapshot


@dataclass(frozen=True)
class VerifyOptions:
    """``sample``: how many data files get their content hashed (all of them when ``full``)."""

    sample: int = files.DEFAULT_SAMPLE
    full: bool = False
    http_timeout: float = 10.0


def compare_inventories(source: HostInventory, target: HostInventory,
                        crossing: Crossing | None = None,
                        ids: accounts.AccountIds | None = None) -> list[Check]:
    """The pure part: every check that needs only the two inventories (and, across
    releases, what differs by the release: see :mod:`evacuate.verify.crossing`)."""
    checks: list[Check] = []
    for section, error in sorted(source.errors.items()):
        checks.append(skipped("inventory", f"source {section}",
                              f"the source's {section} were not collected: {error}"))
    for section, error in sorted(target.errors.items()):
        if section not in source.errors:
            checks.append(failed("inventory", f"target {section}", "collected", "failed",
                                 f"the target's {section} could not be read: {error}"))
    checks.extend(accounts.compare_packages(source, target, crossing))
    checks.extend(accounts.compare_users(source, target, crossing, ids))
    checks.extend(accounts.compare_groups(source, target, crossing, ids))
    for compare in (accounts.compare_sudoers, accounts.compare_cron,
                    services.compare_services, services.compare_listeners,
                    databases.compare_roles, mail.compare_mail,
                    containers.compare_containers):
        checks.extend(compare(source, target, crossing))
    return checks


def read_crossing(source: HostInventory, target_inventory: HostInventory,
                  target: Transport) -> Crossing | None:
    """The release change between the hosts, with the source's manual packages that the
    target's package sources do not offer (asked in one round trip), or None."""
    if crossing_of(source, target_inventory) is None:
        return None
    names = missing_packages(source, target_inventory)
    unavailable: list[str] = []
    if names:
        result = target.run(["apt-cache", "policy", *names], timeout=120)
        candidates = parse_policy(result.text)
        unavailable = [n for n in names if candidates.get(n) is None]
    return crossing_of(source, target_inventory, unavailable)


def _guarded(area: str, action: Callable[[], list[Check]]) -> list[Check]:
    try:
        return action()
    except (EvacuateError, ValueError) as error:
        return [failed(area, "*", "readable", "error", str(error)[:300])]


def _one(check: Callable[[T, Transport], Check], item: T, target: Transport) -> list[Check]:
    return [check(item, target)]


def _page_reader(manifest: SnapshotManifest, read_blob: Callable[[BlobRef], bytes] | None
                 ) -> Callable[[str], bytes | None] | None:
    if read_blob is None:
        return None
    entries = {f.path: f for f in manifest.files}

    def read(path: str) -> bytes | None:
        entry = entries.get(path)
        if entry is not None and entry.hardlink_to:
            entry = entries.get(entry.hardlink_to)
        if entry is None or entry.blob is None or entry.size > MAX_PAGE:
            return None
        try:
            return read_blob(entry.blob)
        except EvacuateError:
            return None
    return read


def verify_against_snapshot(
    manifest: SnapshotManifest, target: Transport, *, target_address: str,
    source_address: str | None = None, target_label: str | None = None,
    settings: VerifySettings | None = None, options: VerifyOptions | None = None,
    read_blob: Callable[[BlobRef], bytes] | None = None,
    progress: Callable[[str], None] | None = None, plan: RebuildPlan | None = None,
    counted: Sequence[databases.CountResult] = (),
) -> VerifyReport:
    """Check the host behind ``target`` (reachable from here at ``target_address``) against
    ``manifest``: its inventory (packages, accounts, sudoers, cron, services, listeners),
    configuration files and data trees, database row counts, web answers, the ports of
    locally written services, and the checks of ``settings``; accepted differences of
    ``settings`` turn the matching failures into ``accepted``. What the source's inventory
    saw and no check covers is added as *not verified* (see :mod:`evacuate.verify.coverage`).

    ``source_address``: where the source still answers, to compare web pages with its live
    answers. ``read_blob`` reads a snapshot blob (to compare front pages with the snapshot's
    when the source cannot be asked). Raise TransportError only when the target cannot be
    reached at all (its inventory is the first thing read).

    ``counted``: the target's counts of some databases read moments ago by the caller (the
    cutover's check that a database it did not reload is intact): not read again.

    ``plan``: the plan the target was rebuilt with: the ids it remapped are checked as
    remapped, the accounts the target had before as the target's own.
    """
    settings = settings or VerifySettings()
    options = options or VerifyOptions()
    show = progress or (lambda _phase: None)
    label = target_label or target.name
    watch = Stopwatch()
    started, began = datetime.now(UTC), time.monotonic()
    source = from_json(manifest.inventory)

    hash_paths, sampled = files.plan_hashes(source, manifest, options.sample, options.full)
    dumps = databases.counted_dumps(manifest.dumps)
    fetcher = web.default_fetcher(options.http_timeout)

    def timed(name: str, action: Callable[[], R]) -> Callable[[], R]:
        def run() -> R:
            with watch.phase(name):
                return action()
        return run

    # What needs only the snapshot is read alongside the target's inventory, each on
    # channels of its own: the data trees' hashes, the row counts and objects, the web
    # answers and ports, the mail server. The comparisons that need the target's inventory
    # (what it remapped, which packages it lacks) follow it.
    with ThreadPoolExecutor(max_workers=5, thread_name_prefix="verify") as pool:
        show("inventory")
        inventory_of = pool.submit(timed("inventory", lambda: collect_inventory(target,
                                                                                host=label)))
        found = pool.submit(timed("files", lambda: files.read_target_files(target, manifest,
                                                                           hash_paths)))
        known = {(r.engine, r.database): r for r in counted}
        read_rows = pool.submit(timed("databases", lambda: list(known.values()) + (
            databases.count_rows(target, source, [d for d in dumps if (d.engine, d.database)
                                                  not in known]))))
        answered = pool.submit(timed("web", lambda: web.check_web(
            source, target_address, source_address=source_address,
            read=_page_reader(manifest, read_blob), fetcher=fetcher)
            + container_web.check_container_answers(
                source, target_address, source_address=source_address, fetcher=fetcher)
            + _guarded(
                "answers", lambda: answers.check_custom_ports(source, target, target_address))))
        mailed = pool.submit(timed("mail", lambda: _guarded("mail", lambda: mail.check_mail_server(
            source, target, target_address, settings.imap_logins))))
        target_inventory = inventory_of.result()
        with watch.phase("compare"):
            crossing = read_crossing(source, target_inventory, target)
            checks = compare_inventories(source, target_inventory, crossing,
                                         accounts.AccountIds.of(plan) if plan else None)

        show("files")

        def file_checks() -> list[Check]:
            read = found.result()
            return (files.compare_config_files(source, manifest, read, crossing)
                    + files.compare_data_trees(manifest, read, sampled, crossing=crossing,
                                               own=accounts.own_homes(source, target_inventory),
                                               generated=(*source.mail.chroot_copies,
                                                          *target_inventory.mail.chroot_copies),
                                               as_messages=source.mail.queue_files(),
                                               containers=source.containers)
                    + package_modes.check_package_modes(manifest, target))
        checks += _guarded("data", file_checks)

        show("databases")
        checks += _guarded("databases", lambda: databases.compare_databases(
            dumps, read_rows.result(), crossing))

        show("web")
        checks += answered.result()
        show("mail")
        checks += mailed.result()

    show("custom")
    with watch.phase("custom"):
        for url in settings.urls:
            checks.append(answers.check_url(url, target_address, options.http_timeout))
        for sql in settings.sql:
            checks += _guarded("custom", partial(_one, answers.check_sql, sql, target))
        for command in settings.commands:
            if command.host is None or command.host == label:
                checks += _guarded("custom", partial(_one, answers.check_command, command,
                                                     target))

    checks = apply_accepted(checks, settings.accept)
    covered, unverified = coverage.assess(coverage.seen_items(source, manifest, crossing),
                                          checks)
    checks += unverified
    return VerifyReport(
        source=manifest.host, target=label, snapshot=manifest.id,
        started=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        duration=round(time.monotonic() - began, 3), checks=tuple(checks),
        timings=watch.timings, source_os=source.os.pretty_name,
        target_os=target_inventory.os.pretty_name, coverage=covered)
