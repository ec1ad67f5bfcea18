"""Account planning (evacuate.plan.accounts): inventories in, planned accounts and ids out."""

from __future__ import annotations

import pytest

from evacuate.inventory.model import Group, HostInventory, User
from evacuate.plan.accounts import IdSpaceFull, Wanted, allocate, plan_accounts

BASE_USERS = (User("root", 0, 0, "/root", "/bin/bash", groups=("root",), system=True),
              User("www-data", 33, 33, "/var/www", "/usr/sbin/nologin", groups=("www-data",),
                   system=True, locked=True))
BASE_GROUPS = (Group("root", 0, system=True), Group("sudo", 27, system=True),
               Group("www-data", 33, system=True), Group("users", 100, system=True))


def person(name: str, uid: int, gid: int | None = None, *groups: str, **state: object) -> User:
    return User(name, uid, uid if gid is None else gid, f"/home/{name}", "/bin/bash",
                groups=(name, *groups), **state)  # type: ignore[arg-type]


def host(name: str, users: tuple[User, ...] = (), groups: tuple[Group, ...] = ()) -> HostInventory:
    private = tuple(Group(u.groups[0], u.gid) for u in users if u.groups and u.uid >= 1000)
    return HostInventory(host=name, collected_at="2026-12-02T00:00:00Z",
                         users=BASE_USERS + users, groups=BASE_GROUPS + private + groups)


CLOUD_TARGET = host("target", (person("debian", 1000, None, "sudo"), person("ops", 1001)))


def by_name(plan_items):  # type: ignore[no-untyped-def]
    return {item.name: item for item in plan_items}


def test_source_ids_taken_on_the_target_are_remapped_to_ids_nobody_else_claims() -> None:
    """The real server's failure: target 1000 and 1001 taken, source 1000, 1001, 1002."""
    source = host("source", (person("carol", 1000), person("alice", 1001),
                             person("bob", 1002)))
    plan = plan_accounts(source, CLOUD_TARGET, installing=())
    users, groups = by_name(plan.users), by_name(plan.groups)
    assert {n: (u.uid, u.gid) for n, u in users.items()} == {
        "bob": (1002, 1002), "carol": (1003, 1003), "alice": (1004, 1004)}
    assert {n: g.gid for n, g in groups.items()} == {"bob": 1002, "carol": 1003, "alice": 1004}
    assert users["bob"].uid_kept and not users["alice"].uid_kept
    assert users["alice"].source_uid == 1001
    every = [u.uid for u in plan.users] + [u.uid for u in CLOUD_TARGET.users]
    assert len(every) == len(set(every))
    assert all(u.action == "create" and u.early for u in plan.users)
    codes = [w.code for w in plan.warnings]
    assert codes.count("uid-collision") == 2 and codes.count("gid-collision") == 2


def test_a_chain_of_remaps_never_lands_on_a_kept_id() -> None:
    """1001 is taken, so alice moves; the ids after it are kept by zed, carol and bob (in
    the source's order of ids, not of names), so alice lands after all of them."""
    source = host("source", (person("alice", 1001), person("zed", 1002),
                             person("carol", 1003), person("bob", 1004)))
    plan = plan_accounts(source, CLOUD_TARGET, installing=())
    assert {u.name: u.uid for u in plan.users} == {
        "zed": 1002, "carol": 1003, "bob": 1004, "alice": 1005}


def test_users_and_groups_with_the_same_name_and_different_ids_are_planned_apart() -> None:
    """alice's uid 1000 is taken, her group's gid 1005 is free and kept; the group 'bob'
    has gid 1000 (taken) and is remapped although user bob (uid 1003) keeps his uid."""
    source = host("source", (person("alice", 1000, 1005), person("bob", 1003, 1000)))
    source = HostInventory(host="source", collected_at="x", users=source.users,
                           groups=(*BASE_GROUPS, Group("alice", 1005), Group("bob", 1000)))
    plan = plan_accounts(source, CLOUD_TARGET, installing=())
    users, groups = by_name(plan.users), by_name(plan.groups)
    assert groups["alice"].gid == 1005 and groups["alice"].gid_kept
    assert not groups["bob"].gid_kept and groups["bob"].gid not in (1000, 1001, 1005)
    assert users["bob"].uid == 1003 and users["bob"].gid == groups["bob"].gid
    assert users["alice"].uid not in (1000, 1001, 1003) and users["alice"].gid == 1005


def test_a_planned_id_a_target_group_already_has_is_not_given_to_a_new_group() -> None:
    """The target has a group 'deploy' with gid 1002 and no user 1002: bob's uid 1002 is
    kept (uids and gids are separate spaces), his private group's gid 1002 is not."""
    target = host("target", (person("debian", 1000),), (Group("deploy", 1002),))
    source = host("source", (person("bob", 1002),))
    plan = plan_accounts(source, target, installing=())
    bob, group = plan.users[0], plan.groups[0]
    assert (bob.uid, bob.uid_kept) == (1002, True)
    assert group.gid not in (1000, 1002) and not group.gid_kept and bob.gid == group.gid
    # the remapped group's gid is the one the user prefers when his own uid is remapped too
    moved = plan_accounts(host("source", (person("bob", 1000),)), target, installing=())
    assert moved.users[0].uid == moved.groups[0].gid == 1001


def test_system_accounts_are_created_as_system_accounts_with_system_ids() -> None:
    """An admin's system account (adduser --system) whose uid the target uses gets the
    highest free system id, is created early (no package makes it), and keeps its state;
    a package's account is left to the package (created_by), not made early."""
    target = host("target", (User("systemd-network", 998, 998, system=True),
                             User("sshd", 999, 65534, system=True)))
    source = host("source", (
        User("notesd", 999, 997, "/var/lib/notesd", "/usr/sbin/nologin",
             groups=("notesd",), system=True, locked=True),
        User("postgres", 102, 106, "/var/lib/postgresql", "/bin/bash", groups=("postgres",),
             system=True, created_by=("postgresql-common",))),
        (Group("notesd", 997, system=True),
         Group("postgres", 106, system=True, created_by=("postgresql-common",))))
    plan = plan_accounts(source, target, installing={"postgresql-common"})
    users, groups = by_name(plan.users), by_name(plan.groups)
    notesd, postgres = users["notesd"], users["postgres"]
    assert notesd.system and notesd.early and notesd.locked and notesd.uid == 997
    assert groups["notesd"].gid == 997 and groups["notesd"].early and groups["notesd"].system
    assert not postgres.early and postgres.created_by == ("postgresql-common",)
    assert not groups["postgres"].early
    # without the package on the target, the account is the rebuild's to make
    alone = by_name(plan_accounts(source, target, installing=()).users)
    assert alone["postgres"].early and alone["postgres"].created_by == ()


def test_accounts_the_target_has_get_the_sources_groups_and_state_not_a_new_uid() -> None:
    """www-data is in the admin's group webdev on the source: planned as an update (its
    uid stays the target's); an account that matches already is not planned; root never."""
    source = HostInventory(host="source", collected_at="x", users=(
        User("root", 0, 0, "/root", "/bin/zsh", groups=("root",), system=True),
        User("www-data", 33, 33, "/var/www", "/usr/sbin/nologin",
             groups=("www-data", "webdev"), system=True, locked=True, max_days=90,
             last_change=19000)),
        groups=(*BASE_GROUPS, Group("webdev", 1500, ("www-data",))))
    target = HostInventory(host="target", collected_at="x", users=(
        User("root", 0, 0, "/root", "/bin/bash", groups=("root",), system=True),
        User("www-data", 34, 33, "/var/www", "/usr/sbin/nologin", groups=("www-data",),
             system=True, locked=True)), groups=BASE_GROUPS)
    plan = plan_accounts(source, target, installing=())
    assert [u.name for u in plan.users] == ["www-data"]
    www = plan.users[0]
    assert www.action == "update" and www.uid == 34 and set(www.groups) == {"www-data", "webdev"}
    assert (www.max_days, www.last_change, www.locked) == (90, 19000, True)
    assert [g.name for g in plan.groups] == ["webdev"]
    same = plan_accounts(target, target, installing=())
    assert same.users == () and same.groups == ()


def test_the_targets_own_accounts_are_listed_with_their_homes() -> None:
    source = host("source", (person("alice", 1001),))
    own = plan_accounts(source, CLOUD_TARGET, installing=()).target_own
    assert {(a.kind, a.name, a.id, a.home) for a in own} == {
        ("user", "debian", 1000, "/home/debian"), ("user", "ops", 1001, "/home/ops"),
        ("group", "debian", 1000, ""), ("group", "ops", 1001, "")}


def test_allocation_raises_when_the_range_is_full() -> None:
    with pytest.raises(IdSpaceFull, match="alice"):
        allocate([Wanted("alice", 1000, False)], {1000, 1001}, (1000, 1001, 100, 999))
    assert allocate([Wanted("svc", 5, True)], {5, 999}, (1000, 1001, 100, 999)) == {"svc": 998}


def test_the_roles_get_ids_for_accounts_to_create_and_only_state_for_the_targets() -> None:
    from evacuate.plan.accounts import user_vars

    source = host("source", (person("bob", 1002, None, "webdev", max_days=90, min_days=1,
                                    last_change=19000, expire_date=22644, locked=True),
                             person("carl", 1003, None, max_days=99999, last_change=19000)),
                  (Group("webdev", 1500),))
    target = host("target", (person("carl", 1003),))
    users = by_name(plan_accounts(source, target, installing=()).users)
    bob, carl = user_vars(users["bob"]), user_vars(users["carl"])
    assert (bob["uid"], bob["gid"], bob["early"], bob["locked"]) == (1002, 1002, True, True)
    assert bob["shadow"].split(":") == ["19000", "1", "90", "", "", "22644"]
    assert "uid" not in carl and "home" not in carl and "authorized_keys" not in carl
    assert carl["shadow"].split(":") == ["*", "", "99999", "", "", ""]  # no aging: any date
