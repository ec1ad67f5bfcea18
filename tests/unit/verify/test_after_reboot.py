"""The pure parts of ``verify --after-reboot``: reading and comparing boots, and one report
from the verifications before and after a reboot (which checks a reboot broke, which it
fixed, the reboot's own checks, the verdict); and the refusal to reboot the source when
both are named by the same address."""

from __future__ import annotations

import pytest

from evacuate.actions.verify import refuse_rebooting_the_source
from evacuate.errors import UsageError
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.transport import parse_host_spec
from evacuate.verify.after_reboot import (
    BEFORE_ONLY,
    FIXED_BY_BOOT,
    UNTIL_NEXT_BOOT,
    lost_on_reboot,
    merge,
    verification_to_json,
)
from evacuate.verify.model import Check, Status, VerifyReport, failed, passed, skipped
from evacuate.verify.reboot import BootState, RebootOutcome, is_new_boot, parse_boot_state

BOOT_A = BootState("m1", "aaaa-1111", "running")
BOOT_B = BootState("m1", "bbbb-2222", "running")


def _report(*checks: Check, started: str = "2026-12-02T10:00:00Z") -> VerifyReport:
    return VerifyReport("src", "dst", "snap1", started, 10.0, checks, {"files": 2.0})


def _outcome(state: str = "running", failed_units: tuple[str, ...] = (),
             before: BootState = BOOT_A) -> RebootOutcome:
    return RebootOutcome(before, BOOT_B, 12.5, 20.0, state, failed_units)


def test_boot_state_is_parsed_from_its_three_lines() -> None:
    assert parse_boot_state("m1\naaaa-1111\ndegraded\n") == BootState("m1", "aaaa-1111",
                                                                      "degraded")
    assert parse_boot_state("\naaaa-1111\n") == BootState("", "aaaa-1111", "unknown")


def test_a_new_boot_is_a_changed_boot_id_read_both_times() -> None:
    assert is_new_boot(BOOT_A, BOOT_B)
    assert not is_new_boot(BOOT_A, BOOT_A)  # still going down: the old boot answers
    assert not is_new_boot(BootState("m1", "", "unknown"), BOOT_B)
    assert not is_new_boot(BOOT_A, BootState("m1", "", "unknown"))


def test_one_system_is_the_same_machine_id_and_the_same_boot() -> None:
    assert BOOT_A.same_system(BootState("m1", "aaaa-1111", "degraded"))
    assert not BOOT_A.same_system(BootState("m2", "aaaa-1111", "running"))  # containers
    assert not BOOT_A.same_system(BOOT_B)  # a clone with the source's machine id
    assert not BootState("", "", "unknown").same_system(BootState("", "", "unknown"))


def test_a_check_that_passed_before_and_fails_after_works_until_the_next_boot() -> None:
    before = _report(passed("services", "notes.service", "enabled/active"),
                     passed("listeners", "tcp/8080"), passed("users", "alice"))
    after = _report(failed("services", "notes.service", "enabled/active", "disabled/inactive",
                           "not enabled (disabled); not running (inactive)"),
                    failed("listeners", "tcp/8080", detail="port 8080/tcp is closed"),
                    passed("users", "alice"), started="2026-12-02T10:01:00Z")
    assert lost_on_reboot(before, after) == ["services:notes.service", "listeners:tcp/8080"]
    result = merge(before, after, _outcome())
    checks = {c.id: c for c in result.merged.checks}
    notes = checks["services:notes.service"]
    assert notes.status is Status.FAIL and notes.found == "disabled/inactive"
    assert notes.detail == f"{UNTIL_NEXT_BOOT}: not enabled (disabled); not running (inactive)"
    assert checks["users:alice"].status is Status.PASS and not checks["users:alice"].detail
    assert result.before.ok and not result.after.ok and not result.passes()
    assert result.lost == ["services:notes.service", "listeners:tcp/8080"]
    assert "works until its next boot: 2 checks" in result.summary()
    assert result.merged.started == before.started
    assert result.merged.timings["reboot"] == 20.0
    assert result.merged.timings["before reboot: files"] == 2.0
    data = verification_to_json(result)
    assert data["after_reboot"]["lost_on_reboot"] == result.lost
    assert data["after_reboot"]["boot_id_after"] == BOOT_B.boot_id and data["ok"] is False


def test_a_failure_before_the_reboot_still_fails_when_the_reboot_fixed_it() -> None:
    before = _report(failed("services", "notes.service", "enabled/active", "enabled/failed",
                            "not running (failed)"))
    after = _report(passed("services", "notes.service", "enabled/active", "enabled/active"))
    result = merge(before, after, _outcome())
    (notes,) = [c for c in result.merged.checks if c.area == "services"]
    assert notes.status is Status.FAIL and notes.found == "enabled/failed"
    assert notes.detail == f"{FIXED_BY_BOOT}: not running (failed)"
    assert result.lost == [] and not result.passes()


def test_clean_on_both_sides_passes_with_the_reboots_own_checks() -> None:
    both = (passed("users", "alice"), skipped("web", "http://x/", "no page"))
    result = merge(_report(*both), _report(*both), _outcome())
    assert result.passes(strict=True) and result.lost == []
    reboot = {c.name: c for c in result.merged.checks if c.area == "reboot"}
    assert reboot["new boot"].status is Status.PASS
    assert reboot["new boot"].expected == BOOT_A.boot_id
    assert reboot["new boot"].found == BOOT_B.boot_id
    assert reboot["system state"].status is Status.PASS
    assert "nothing that passed before fails" in result.summary()


def test_checks_made_only_before_the_reboot_are_kept() -> None:
    result = merge(_report(passed("web", "http://x/"), failed("data", "/srv/a")),
                   _report(), _outcome())
    checks = {c.id: c for c in result.merged.checks}
    assert checks["web:http://x/"].detail == BEFORE_ONLY
    assert checks["data:/srv/a"].failed and not result.passes()


@pytest.mark.parametrize(("before", "state", "units", "ok"), [
    ("running", "degraded", ("notes.service",), False),  # broken by the reboot
    ("degraded", "degraded", ("old.service",), True),  # as degraded as it was
    ("running", "starting", (), False),  # never finished booting
    ("running", "running", (), True),
])
def test_the_system_state_after_the_reboot(before: str, state: str,
                                           units: tuple[str, ...], ok: bool) -> None:
    outcome = _outcome(state, units, before=BootState("m1", "aaaa-1111", before))
    result = merge(_report(), _report(), outcome)
    (check,) = [c for c in result.merged.checks if c.id == "reboot:system state"]
    assert (check.status is Status.PASS) is ok, check
    assert check.expected == before and check.found == state
    for unit in units:
        assert unit in check.detail
    assert result.passes() is ok


def _ref(text: str) -> HostRef:
    return HostRef(text, parse_host_spec(text))


@pytest.mark.parametrize(("source", "target"), [
    ("root@203.0.113.10", "root@203.0.113.10"),
    ("root@203.0.113.10", "ops@203.0.113.10:22"),  # another user: the same machine
    ("root@Web1.example.net", "root@web1.example.net"),
    ("local", "local"),
])
def test_the_source_is_refused_as_the_target_to_reboot(source: str, target: str) -> None:
    with pytest.raises(UsageError, match="never reboots the source"):
        refuse_rebooting_the_source(_ref(source), _ref(target), ConnectOptions(),
                                    ask_source=False)


@pytest.mark.parametrize(("source", "target"), [
    ("root@203.0.113.10", "root@203.0.113.11"),
    ("root@203.0.113.10", "root@203.0.113.10:2222"),  # another port: another container
    ("local", "root@203.0.113.10"),
])
def test_another_address_is_not_refused_by_the_address_alone(source: str, target: str) -> None:
    refuse_rebooting_the_source(_ref(source), _ref(target), ConnectOptions(), ask_source=False)
