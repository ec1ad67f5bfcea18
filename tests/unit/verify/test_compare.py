"""The pure comparison of two inventories: identical hosts pass every check; each kind of
difference fails the check that names the object, and only that one."""

from __future__ import annotations

from dataclasses import replace

from evacuate.config.model import AcceptedDifference
from evacuate.inventory.model import (
    CronEntry,
    Group,
    Listener,
    OsInfo,
    Package,
    Service,
    Socket,
)
from evacuate.verify.engine import compare_inventories
from evacuate.verify.model import Check, Status, apply_accepted
from evacuate.verify.services import ignored
from tests.unit.verify.builders import ALICE_KEYS, source_inventory, with_user


def _failed(checks: list[Check]) -> dict[str, Check]:
    return {c.id: c for c in checks if c.status is Status.FAIL}


def test_identical_inventories_pass_every_check() -> None:
    source = source_inventory()
    checks = compare_inventories(source, source)
    assert checks and all(c.status is Status.PASS for c in checks), [c for c in checks
                                                                     if c.status != Status.PASS]
    ids = {c.id for c in checks}
    assert {"packages:nginx", "users:alice", "groups:webdev", "sudoers:/etc/sudoers.d/alice-nginx",
            "cron:/etc/cron.d/notes-report", "services:notes.service",
            "services:notes-cleanup.timer", "listeners:tcp/80", "listeners:tcp/8080"} <= ids


def test_host_specific_units_and_ephemeral_ports_are_not_compared() -> None:
    ids = {c.id for c in compare_inventories(source_inventory(), source_inventory())}
    assert "services:getty@tty1.service" not in ids
    assert "services:systemd-journald.service" not in ids
    assert "services:dbus.service" not in ids  # static: follows from what needs it
    assert "services:getty@.service" not in ids
    assert "listeners:udp/40000" not in ids
    assert "packages:libc6" not in ids  # a dependency, not chosen by hand
    assert ignored("systemd-logind.service") and not ignored("nginx.service")


def test_each_difference_fails_the_check_naming_its_object() -> None:
    source = source_inventory()
    target = with_user(source, "alice", authorized_keys=ALICE_KEYS[:1])
    target = with_user(target, "bob", shell="/bin/sh", groups=("bob",))
    target = replace(
        target,
        packages=tuple(p for p in target.packages if p.name != "postgresql"),
        groups=(Group("webdev", 1500, ("alice",)), Group("sudo", 27, ("alice",), True)),
        sudoers=(replace(target.sudoers[0], lines=("alice ALL=(ALL) ALL",)),),
        crontabs=(replace(target.crontabs[0], entries=(
            CronEntry("0 * * * *", "/home/alice/bin/sync.sh", "alice"),)),),
        services=tuple(replace(s, active_state="inactive") if s.name == "notes.service" else s
                       for s in target.services),
        timers=(),
        listeners=(Listener("tcp", "0.0.0.0", 80, unit="apache2.service"),
                   Listener("tcp", "127.0.0.1", 5432, unit="postgresql@15-main.service")),
    )
    failed = _failed(compare_inventories(source, target))
    assert set(failed) == {
        "users:alice", "users:bob", "packages:postgresql", "groups:webdev", "groups:postgres",
        "sudoers:/etc/sudoers.d/alice-nginx", "cron:/var/spool/cron/crontabs/alice",
        "cron:/etc/cron.d/notes-report", "services:notes.service",
        "services:notes-cleanup.timer", "listeners:tcp/80", "listeners:tcp/8080"}
    alice = failed["users:alice"]
    assert "authorized_keys 2 → 1" in alice.detail and "alice@laptop" in alice.detail
    assert "shell /bin/bash → /bin/sh" in failed["users:bob"].detail
    assert "not in group(s) webdev" in failed["users:bob"].detail
    assert "members missing: bob" in failed["groups:webdev"].detail
    assert "not running" in failed["services:notes.service"].detail
    assert failed["listeners:tcp/80"].found == "apache2.service"
    assert failed["listeners:tcp/8080"].found == "nothing listening"
    assert "missing: */30" in failed["cron:/var/spool/cron/crontabs/alice"].detail


def test_system_account_ids_may_differ_but_peoples_may_not() -> None:
    source = source_inventory()
    target = with_user(with_user(source, "postgres", uid=110), "alice", uid=2001)
    failed = _failed(compare_inventories(source, target))
    assert set(failed) == {"users:alice"}
    assert "uid 1001 → 2001" in failed["users:alice"].detail


def test_package_versions_fail_on_the_same_release_only() -> None:
    source = source_inventory()
    newer = replace(source, packages=(Package("nginx", "1.24.0-2"), *source.packages[1:]))
    same = _failed(compare_inventories(source, newer))
    assert set(same) == {"packages:nginx"}
    upgraded = replace(newer, os=OsInfo(id="debian", version_id="13"))
    checks = {c.id: c for c in compare_inventories(source, upgraded)}
    assert checks["packages:nginx"].status is Status.PASS
    assert "12 → debian 13" in checks["packages:nginx"].detail


def test_a_unit_missing_on_the_target_and_a_disabled_one_fail() -> None:
    source = source_inventory()
    target = replace(source, services=tuple(
        replace(s, enabled_state="disabled") if s.name == "nginx.service" else s
        for s in source.services if s.name != "notes.service"))
    failed = _failed(compare_inventories(source, target))
    assert failed["services:notes.service"].found == "no such unit"
    assert "not enabled (disabled)" in failed["services:nginx.service"].detail


def test_an_enabled_socket_is_compared_like_a_service() -> None:
    source = replace(source_inventory(), sockets=(
        Socket("notes.socket", enabled_state="enabled", active_state="active"),
        Socket("dbus.socket", enabled_state="static", active_state="active"),
        Socket("tmpl@.socket", enabled_state="enabled")))
    checks = {c.id: c for c in compare_inventories(source, source)}
    assert checks["services:notes.socket"].status is Status.PASS
    assert "services:dbus.socket" not in checks and "services:tmpl@.socket" not in checks
    disabled = replace(source, sockets=(Socket("notes.socket", enabled_state="disabled",
                                               active_state="inactive"),))
    failed = _failed(compare_inventories(source, disabled))
    assert "not enabled (disabled)" in failed["services:notes.socket"].detail


def test_socket_activated_ports_accept_any_unit() -> None:
    source = replace(source_inventory(), listeners=(
        Listener("tcp", "*", 3306, unit="init.scope"),))
    target = replace(source, listeners=(Listener("tcp", "127.0.0.1", 3306,
                                                 unit="mariadb.service"),))
    assert not _failed(compare_inventories(source, target))
    assert _failed(compare_inventories(source, replace(source, listeners=())))


def test_target_inventory_errors_fail_and_source_errors_skip() -> None:
    source = replace(source_inventory(), errors={"docker": "timed out"})
    target = replace(source_inventory(), errors={"users": "permission denied"})
    checks = {c.id: c for c in compare_inventories(source, target)}
    assert checks["inventory:source docker"].status is Status.SKIP
    assert checks["inventory:target users"].status is Status.FAIL


def test_accepted_differences_need_a_matching_id_and_keep_the_reason() -> None:
    source = source_inventory()
    target = replace(source, services=tuple(s for s in source.services
                                            if s.name != "notes.service"))
    checks = apply_accepted(compare_inventories(source, target), (
        AcceptedDifference("services:notes*", "notes moved to a container"),
        AcceptedDifference("packages:nothing", "unused")))
    notes = next(c for c in checks if c.id == "services:notes.service")
    assert notes.status is Status.ACCEPTED and "notes moved to a container" in notes.detail
    assert not _failed(checks)
    unchanged = next(c for c in checks if c.id == "services:nginx.service")
    assert unchanged.status is Status.PASS and unchanged.detail == ""


def test_removed_service_listeners_and_extra_services_on_target_are_fine() -> None:
    source = source_inventory()
    target = replace(source, services=(*source.services, Service("extra.service", "enabled",
                                                                 "active")))
    assert not _failed(compare_inventories(source, target))


def test_a_rescued_disk_source_expects_enabled_units_enabled_and_not_failed() -> None:
    # A disk tells which units are enabled, not which ran: its active states are unknown.
    disk = replace(source_inventory(), services=tuple(
        replace(s, active_state="") for s in source_inventory().services))
    running = source_inventory()
    assert not _failed(compare_inventories(disk, running))
    broken = replace(running, services=tuple(
        replace(s, active_state="failed") if s.name == "notes.service" else s
        for s in running.services))
    failed = _failed(compare_inventories(disk, broken))
    assert set(failed) == {"services:notes.service"}
    assert failed["services:notes.service"].detail == "failed"
    assert failed["services:notes.service"].expected == "enabled/unknown"
