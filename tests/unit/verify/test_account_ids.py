"""Verify against the plan's account decisions: its remaps pass as remapped, an unplanned
uid difference fails, the target's own accounts and homes are listed, state is compared."""

from __future__ import annotations

from dataclasses import replace

from evacuate.inventory.model import Group, HostInventory, User
from evacuate.plan.model import GroupPlan, TargetAccount, UserPlan
from evacuate.verify.accounts import AccountIds, compare_groups, compare_users, own_homes
from evacuate.verify.files import TargetFiles, compare_data_trees
from evacuate.verify.model import Status
from tests.unit.verify.builders import entry, manifest
from tests.unit.verify.test_files import scanned

ALICE = User("alice", 1001, 1001, "/home/alice", "/bin/bash", groups=("alice",))
DEBIAN = User("debian", 1000, 1000, "/home/debian", "/bin/bash", groups=("debian",))
OPS = User("ops", 1001, 1001, "/home/ops", "/bin/bash", groups=("ops",))


def hosts(alice_uid: int) -> tuple[HostInventory, HostInventory]:
    source = HostInventory(host="s", collected_at="x", users=(ALICE,),
                           groups=(Group("alice", 1001),))
    target = HostInventory(host="t", collected_at="x",
                           users=(DEBIAN, OPS, replace(ALICE, uid=alice_uid, gid=1003)),
                           groups=(Group("debian", 1000), Group("ops", 1001),
                                   Group("alice", 1003)))
    return source, target


IDS = AccountIds(uids={"alice": (1001, 1003)}, gids={"alice": (1001, 1003)},
                 own_users=frozenset({"debian", "ops"}), own_groups=frozenset({"debian", "ops"}))


def by_name(checks):  # type: ignore[no-untyped-def]
    return {c.name: c for c in checks}


def test_the_plans_remap_passes_as_remapped_and_the_targets_own_are_listed() -> None:
    source, target = hosts(1003)
    users = by_name(compare_users(source, target, ids=IDS))
    assert users["alice"].status == Status.PASS
    assert users["alice"].detail == "remapped as planned: uid 1001 → 1003"
    assert users["debian"].status == users["ops"].status == Status.PASS
    assert "the target's own account (there before the rebuild)" in users["ops"].detail
    groups = by_name(compare_groups(source, target, ids=IDS))
    assert groups["alice"].status == Status.PASS and "gid 1001 → 1003" in groups["alice"].detail
    assert groups["debian"].status == Status.PASS


def test_an_unplanned_uid_difference_fails() -> None:
    source, target = hosts(1004)
    assert by_name(compare_users(source, target, ids=IDS))["alice"].detail == \
        "uid 1001 → 1004 (the plan chose 1003)"
    without_plan = by_name(compare_users(source, target))["alice"]
    assert without_plan.status == Status.FAIL and without_plan.detail == "uid 1001 → 1004"


def test_lock_aging_and_expiry_are_compared_also_for_system_accounts() -> None:
    www = User("www-data", 33, 33, "/var/www", "/usr/sbin/nologin", groups=("www-data",),
               system=True, locked=True, max_days=90, last_change=19000, expire_date=22000)
    source = HostInventory(host="s", collected_at="x", users=(www,))
    same = HostInventory(host="t", collected_at="x", users=(replace(www, uid=34),))
    assert compare_users(source, same)[0].status == Status.PASS
    other = HostInventory(host="t", collected_at="x", users=(
        replace(www, locked=False, expire_date=None, last_change=19001),))
    check = compare_users(source, other)[0]
    assert check.status == Status.FAIL
    assert check.detail == ("locked → not locked; aging: expire 22000 → None, "
                            "last change 19000 → 19001")


def test_the_plans_ids_come_from_its_accounts() -> None:
    from evacuate.plan.model import RebuildPlan

    plan = RebuildPlan.__new__(RebuildPlan)
    object.__setattr__(plan, "users", (
        UserPlan("alice", 1003, "alice", 1003, (), "", "", "", False, (), False,
                 source_uid=1001),
        UserPlan("postgres", 105, "postgres", 106, (), "", "", "", True, (), True,
                 source_uid=105, created_by=("postgresql-common",)),
        UserPlan("www-data", 33, "www-data", 33, (), "", "", "", True, (), action="update")))
    object.__setattr__(plan, "groups", (GroupPlan("alice", 1003, False, source_gid=1001),))
    object.__setattr__(plan, "target_own", (TargetAccount("user", "ops", 1001, "/home/ops"),))
    ids = AccountIds.of(plan)
    assert ids.uids == {"alice": (1001, 1003)} and ids.gids == {"alice": (1001, 1003)}
    assert ids.own_users == {"ops"} and not ids.own_groups


def _scan(snapshot, *extra: str) -> TargetFiles:  # type: ignore[no-untyped-def]
    """The target: the snapshot's entries as they were, plus ``extra`` directories."""
    entries = {f.path: scanned(f) for f in snapshot.files}
    entries.update({p: scanned(entry(p, kind="dir", mode=0o700, user="1000", group="1000"))
                    for p in extra})
    return TargetFiles(entries, {})


def test_the_homes_of_the_targets_own_accounts_are_listed_not_failed() -> None:
    source, target = hosts(1003)
    homes = own_homes(source, target)
    assert homes == ["/home/debian", "/home/ops"]
    snapshot = replace(manifest(), roots=("/home",),
                       files=(entry("/home", kind="dir"), entry("/home/alice", kind="dir")))
    found = _scan(snapshot, "/home/debian", "/home/debian/.cache")
    checks = by_name(compare_data_trees(snapshot, found, set(), own=homes))
    assert checks["/home"].status == Status.PASS, checks
    assert checks["/home (the target's own)"].status == Status.PASS
    assert "/home/debian/.cache" in checks["/home (the target's own)"].detail
    failing = by_name(compare_data_trees(snapshot, found, set()))
    assert failing["/home/debian"].status == Status.FAIL
