"""Which accounts the rebuild makes or changes on the target, and with which ids. Pure.

Accounts by provenance: every user and group of the source that the target lacks is
planned (system or not, whatever its id); one the target has already is planned only to
bring its supplementary groups and state (shell, lock, aging, expiry) to the source's.
``root`` is the operator's access to the target and is left alone.

Ids that cannot collide: every planned account gets an explicit id before anything is
created: its source id when that is free on the target (as the target's inventory shows
it at plan time) and claimed by no other planned account, else a new one that is neither
— people's from the target's UID_MIN up, system accounts' from its SYS_UID_MAX down.
Kept ids are claimed before any new id is handed out, so a remap can never take an id
another account keeps (``alice`` 1001 → 1003 when the target's ``ops`` has 1001 and
``bob`` keeps 1002).

Packages cannot steal a planned id either: an account no package of the target will
create is made *early*, before the packages install (the users role runs once before the
packages role), so a package's postinst that takes the next free system id finds it
taken. An account whose creating package the target installs (``created_by``, read from
the source's maintainer scripts and sysusers.d files) is left to that package, which picks
its id as it always does (files follow names, so its files still get the right owner);
the users role then only sets its groups and state, and creates it with the planned id
itself only if the package did not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from evacuate.errors import EvacuateError
from evacuate.inventory import HostInventory
from evacuate.inventory.model import Group, IdRanges, User
from evacuate.plan.model import GroupPlan, PlanWarning, TargetAccount, UserPlan

NO_AGING = 99999  # PASS_MAX_DAYS' "never": the last change date then means nothing


@dataclass(frozen=True)
class AccountsPlan:
    users: tuple[UserPlan, ...]
    groups: tuple[GroupPlan, ...]
    target_own: tuple[TargetAccount, ...]
    warnings: tuple[PlanWarning, ...]


@dataclass(frozen=True)
class Wanted:
    """An account that needs an id: its name, its id on the source, whether it is a
    system account, and an id it would like if free (its user-private group's)."""

    name: str
    source_id: int
    system: bool
    prefer: int | None = None


class IdSpaceFull(EvacuateError):
    """No free id is left in the target's range."""


def allocate(wanted: Iterable[Wanted], taken: Collection[int], ranges: tuple[int, int, int, int]
             ) -> dict[str, int]:
    """name → planned id. ``taken``: the ids the target uses; ``ranges``: (people's min,
    max, system min, max). Source ids are kept first (lowest first) where free; the rest
    get their preferred id when free, else people the lowest free id from min up and
    system accounts the highest free from the system max down. Raise IdSpaceFull."""
    items = sorted(wanted, key=lambda w: (w.source_id, w.name))
    used = set(taken)
    planned: dict[str, int] = {}
    for item in items:
        if item.source_id not in used:
            used.add(item.source_id)
            planned[item.name] = item.source_id
    low, high, sys_low, sys_high = ranges
    for item in items:
        if item.name in planned:
            continue
        if item.prefer is not None and item.prefer not in used and \
                (sys_low <= item.prefer <= sys_high if item.system else low <= item.prefer <= high):
            chosen: int | None = item.prefer
        elif item.system:
            chosen = next((i for i in range(sys_high, sys_low - 1, -1) if i not in used), None)
        else:
            chosen = next((i for i in range(low, high + 1) if i not in used), None)
        if chosen is None:
            kind = "system" if item.system else "people's"
            raise IdSpaceFull(f"no free {kind} id left on the target for {item.name}")
        used.add(chosen)
        planned[item.name] = chosen
    return planned


def _aging(user: User) -> tuple[int | None, ...]:
    """The shadow state compared and carried: min, max, warn, inactive, expire, and the last
    change only where it counts (a maximum age is set)."""
    active = user.max_days is not None and user.max_days < NO_AGING
    return (user.min_days, user.max_days, user.warn_days, user.inactive_days, user.expire_date,
            user.last_change if active else None)


def state_differs(want: User, have: User) -> list[str]:
    """What of an account's groups and state differs (``want`` the source's)."""
    problems = []
    if set(want.groups) != set(have.groups):
        problems.append("groups")
    if want.shell != have.shell:
        problems.append("shell")
    if want.locked != have.locked:
        problems.append("lock")
    if _aging(want) != _aging(have):
        problems.append("aging")
    return problems


def _creators(account: User | Group, installing: Collection[str]) -> tuple[str, ...]:
    return tuple(p for p in account.created_by if p in installing)


def plan_accounts(source: HostInventory, target: HostInventory,
                  installing: Collection[str]) -> AccountsPlan:
    """``installing``: the packages the target will have once the plan's packages install
    (the source's packages that the target can install)."""
    warnings: list[PlanWarning] = []
    target_users = {u.name: u for u in target.users}
    target_groups = {g.name: g for g in target.groups}
    source_users = {u.name for u in source.users}
    source_groups = {g.name for g in source.groups}
    ranges: IdRanges = target.account_ranges

    new_groups = [g for g in source.groups if g.name not in target_groups]
    group_creators = {g.name: _creators(g, installing) for g in new_groups}
    gids = allocate((Wanted(g.name, g.gid, g.system) for g in new_groups),
                    {g.gid for g in target.groups},
                    (ranges.gid_min, ranges.gid_max, ranges.sys_gid_min, ranges.sys_gid_max))
    groups = []
    for group in sorted(new_groups, key=lambda g: gids[g.name]):
        gid = gids[group.name]
        early = not group_creators[group.name]
        if gid != group.gid:
            holder = next((g.name for g in target.groups if g.gid == group.gid), None)
            why = f"{holder}'s on the target" if holder else "another planned group's"
            warnings.append(PlanWarning("gid-collision", f"gid {group.gid} of group "
                                        f"{group.name} is {why}: {group.name} gets gid {gid}; "
                                        "file groups follow the name", "info"))
        groups.append(GroupPlan(group.name, gid, gid == group.gid, source_gid=group.gid,
                                system=group.system, early=early,
                                created_by=group_creators[group.name]))
    early_groups = {g.name for g in groups if g.early}
    planned_gids = {g.name: g.gid for g in groups}

    gid_names = {g.gid: g.name for g in source.groups}
    new_users = [u for u in source.users if u.name not in target_users and u.uid != 0]
    uids = allocate((Wanted(u.name, u.uid, u.system,
                            prefer=planned_gids.get(gid_names.get(u.gid, ""))
                            if gid_names.get(u.gid) == u.name else None) for u in new_users),
                    {u.uid for u in target.users},
                    (ranges.uid_min, ranges.uid_max, ranges.sys_uid_min, ranges.sys_uid_max))
    users = []
    for user in sorted(source.users, key=lambda u: (u.name in target_users, u.uid, u.name)):
        if user.uid == 0:
            continue
        primary = gid_names.get(user.gid, user.name)
        gid = planned_gids.get(primary, target_groups[primary].gid if primary in target_groups
                               else user.gid)
        there = target_users.get(user.name)
        if there is not None:
            if not state_differs(user, there):
                continue
            users.append(_user_plan(user, there.uid, primary, gid, "update", False, ()))
            continue
        uid = uids[user.name]
        creators = _creators(user, installing)
        early = not creators and (primary in early_groups or primary in target_groups)
        if uid != user.uid:
            holder = next((u.name for u in target.users if u.uid == user.uid), None)
            why = f"{holder}'s on the target" if holder else "another planned account's"
            warnings.append(PlanWarning("uid-collision", f"uid {user.uid} of {user.name} is "
                                        f"{why}: {user.name} gets uid {uid}; file owners "
                                        "follow the name", "info"))
        users.append(_user_plan(user, uid, primary, gid, "create", early, creators))
    own = [TargetAccount("user", u.name, u.uid, u.home) for u in target.users
           if u.name not in source_users]
    own += [TargetAccount("group", g.name, g.gid) for g in target.groups
            if g.name not in source_groups]
    return AccountsPlan(tuple(users), tuple(groups), tuple(own), tuple(warnings))


def _user_plan(user: User, uid: int, primary: str, gid: int, action: str, early: bool,
               creators: tuple[str, ...]) -> UserPlan:
    return UserPlan(
        user.name, uid, primary, gid, tuple(user.groups), user.home, user.shell, user.gecos,
        user.system, tuple(user.authorized_keys), uid == user.uid, action=action,
        source_uid=user.uid, early=early, created_by=creators, locked=user.locked,
        last_change=user.last_change, min_days=user.min_days, max_days=user.max_days,
        warn_days=user.warn_days, inactive_days=user.inactive_days, expire_date=user.expire_date)


def group_vars(group: GroupPlan) -> dict[str, Any]:
    """The group's entry in evacuate_groups (playbooks/CONTRACT.md)."""
    return {"name": group.name, "gid": group.gid, "system": group.system, "early": group.early}


def _field(value: int | None) -> str:
    return "" if value is None else str(value)


def user_vars(user: UserPlan) -> dict[str, Any]:
    """The user's entry in evacuate_users: an account the target has gets no uid, primary
    group, home or keys (they stay the target's), only its groups and state."""
    active = user.max_days is not None and user.max_days < NO_AGING
    shadow = ":".join([_field(user.last_change) if active else "*",
                       *(_field(v) for v in (user.min_days, user.max_days, user.warn_days,
                                             user.inactive_days, user.expire_date))])
    entry: dict[str, Any] = {"name": user.name}
    if user.action == "create":
        entry.update(uid=user.uid, group=user.group, gid=user.gid)
    entry.update(groups=list(user.groups), shell=user.shell, system=user.system,
                 early=user.early, locked=user.locked, shadow=shadow)
    if user.action == "create":
        entry.update(home=user.home, comment=user.comment,
                     authorized_keys=list(user.authorized_keys))
    return entry
