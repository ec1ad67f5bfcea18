"""Pure comparisons of what a host *is*: packages, users, groups, sudoers and crontabs of
the source inventory against the target's. Identity is by name: numeric ids of accounts
that the target's packages made may differ (files follow names); any other id must be the
source's, or the one the plan chose when it remapped it (:class:`AccountIds`). Accounts the
target has and the source has not are the target's own: listed, never failed."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace

from evacuate.inventory.model import Crontab, Group, HostInventory, User
from evacuate.plan.accounts import NO_AGING
from evacuate.plan.model import RebuildPlan
from evacuate.verify.crossing import Crossing
from evacuate.verify.model import Check, Status, failed, judged, passed, skipped


def _release(inventory: HostInventory) -> str:
    return f"{inventory.os.id} {inventory.os.version_id}".strip()


def compare_packages(source: HostInventory, target: HostInventory,
                     crossing: Crossing | None = None) -> list[Check]:
    """Every package installed by hand on the source must be installed on the target.
    A different version fails only when both hosts run the same OS release; across
    releases it is listed as information, and so is a package the new release renamed
    or does not have (see :mod:`evacuate.verify.crossing`)."""
    found = {p.name: p for p in target.packages}
    same_release = _release(source) == _release(target)
    checks = []
    for package in sorted((p for p in source.packages if p.manual), key=lambda p: p.name):
        there = found.get(package.name)
        renamed = crossing.renamed(package.name) if crossing and there is None else None
        if renamed is not None and crossing is not None:
            checks.append(passed("packages", package.name, package.version,
                                 f"{renamed} {found[renamed].version}",
                                 f"renamed: {package.name} → {renamed} ({crossing.label})"))
        elif there is None and crossing is not None and package.name in crossing.unavailable:
            checks.append(skipped("packages", package.name, f"not in the target's package "
                                  f"sources ({crossing.target_release}), as the plan reported"))
        elif there is None:
            checks.append(failed("packages", package.name, package.version, "not installed",
                                 "installed by hand on the source"))
        elif there.version == package.version:
            checks.append(passed("packages", package.name, package.version, there.version))
        elif same_release:
            checks.append(failed("packages", package.name, package.version, there.version,
                                 f"version differs on the same release ({_release(source)})"))
        else:
            checks.append(passed("packages", package.name, package.version, there.version,
                                 f"version differs: {_release(source)} → {_release(target)}"))
    return checks


@dataclass(frozen=True)
class AccountIds:
    """What the plan decided about ids: name → (source id, planned id) of every account it
    creates with an explicit id (not those left to the target's packages), and the names
    of the target's own accounts before the rebuild."""

    uids: dict[str, tuple[int, int]] = field(default_factory=dict)
    gids: dict[str, tuple[int, int]] = field(default_factory=dict)
    own_users: frozenset[str] = frozenset()
    own_groups: frozenset[str] = frozenset()

    @classmethod
    def of(cls, plan: RebuildPlan) -> AccountIds:
        return cls(
            uids={u.name: (u.source_uid if u.source_uid is not None else u.uid, u.uid)
                  for u in plan.users if u.action == "create" and not u.created_by},
            gids={g.name: (g.source_gid if g.source_gid is not None else g.gid, g.gid)
                  for g in plan.groups if not g.created_by},
            own_users=frozenset(a.name for a in plan.target_own if a.kind == "user"),
            own_groups=frozenset(a.name for a in plan.target_own if a.kind == "group"))


def _id_problem(kind: str, name: str, want: int, have: int, system: bool,
                planned: dict[str, tuple[int, int]]) -> tuple[str, str]:
    """(problem, note) about an account's id: a remap the plan made is a note."""
    if name in planned:
        chosen = planned[name][1]
        if have == chosen:
            return "", f"remapped as planned: {kind} {want} → {have}" if want != have else ""
        return f"{kind} {want} → {have} (the plan chose {chosen})", ""
    if want != have and not system:
        return f"{kind} {want} → {have}", ""
    return "", ""


def _aging(user: User) -> dict[str, int | None]:
    active = user.max_days is not None and user.max_days < NO_AGING
    return {"min": user.min_days, "max": user.max_days, "warn": user.warn_days,
            "inactive": user.inactive_days, "expire": user.expire_date,
            "last change": user.last_change if active else None}


def _state_differences(want: User, have: User) -> list[str]:
    problems = []
    if want.locked != have.locked:
        problems.append(("locked" if want.locked else "not locked") + " → " +
                        ("locked" if have.locked else "not locked"))
    if want.has_password != have.has_password:
        problems.append(f"password {'set' if want.has_password else 'none'} → "
                        f"{'set' if have.has_password else 'none'}")
    before, after = _aging(want), _aging(have)
    changed = [f"{k} {before[k]} → {after[k]}" for k in before if before[k] != after[k]]
    if changed:
        problems.append("aging: " + ", ".join(changed))
    return problems


def _keys(user: User) -> list[str]:
    return sorted(" ".join(k.split()) for k in user.authorized_keys)


def _key_label(key: str) -> str:
    parts = key.split()
    kind = next((p for p in parts if p.startswith(("ssh-", "ecdsa-", "sk-"))), "key")
    comment = parts[-1] if len(parts) >= 3 and not parts[-1].startswith("AAAA") else ""
    return f"{kind} {comment}".strip()


def _user_differences(want: User, have: User) -> list[str]:
    problems = []
    if want.shell != have.shell:
        problems.append(f"shell {want.shell} → {have.shell}")
    missing_groups = sorted(set(want.groups) - set(have.groups))
    extra_groups = sorted(set(have.groups) - set(want.groups))
    if missing_groups:
        problems.append(f"not in group(s) {', '.join(missing_groups)}")
    if extra_groups and not want.system:
        problems.append(f"also in group(s) {', '.join(extra_groups)}")
    want_keys, have_keys = _keys(want), _keys(have)
    if want_keys != have_keys:
        lost = sorted(set(want_keys) - set(have_keys))
        added = sorted(set(have_keys) - set(want_keys))
        words = [f"authorized_keys {len(want_keys)} → {len(have_keys)}"]
        if lost:
            words.append("missing " + ", ".join(_key_label(k) for k in lost))
        if added:
            words.append("unexpected " + ", ".join(_key_label(k) for k in added))
        problems.append(": ".join(words[:1]) + (" (" + "; ".join(words[1:]) + ")"
                                                 if len(words) > 1 else ""))
    # root is the operator's access to the target: its password and aging stay the target's
    return problems + (_state_differences(want, have) if want.uid != 0 else [])


def _describe_user(user: User) -> str:
    return (f"uid {user.uid}, shell {user.shell}, groups {','.join(sorted(user.groups)) or '-'}"
            f", {len(user.authorized_keys)} key(s)")


def _no_longer_created(kind: str, name: str, crossing: Crossing) -> Check:
    return skipped(kind, name, f"a system {'account' if kind == 'users' else 'group'} of "
                   f"{crossing.source_release}'s packages that {crossing.target_release}'s do "
                   "not create (files it owned would show in the data checks)")


def compare_users(source: HostInventory, target: HostInventory,
                  crossing: Crossing | None = None, ids: AccountIds | None = None) -> list[Check]:
    """Each source account exists on the target with the same shell, supplementary groups,
    lock and aging, and exactly the same authorized_keys; its uid is the source's or the
    plan's remap (``ids``), except for accounts the target's packages made. Across
    releases a missing system account is listed, not failed. The target's own accounts
    are listed as passing."""
    ids = ids or AccountIds()
    found = {u.name: u for u in target.users}
    checks = []
    for user in sorted(source.users, key=lambda u: (u.system and u.name != "root", u.name)):
        there = found.get(user.name)
        if there is None and crossing is not None and user.system:
            checks.append(_no_longer_created("users", user.name, crossing))
            continue
        if there is None:
            checks.append(failed("users", user.name, _describe_user(user), "no such user",
                                 "account missing"))
            continue
        problem, note = _id_problem("uid", user.name, user.uid, there.uid, user.system, ids.uids)
        problems = [problem] * bool(problem) + _user_differences(user, there)
        if user.uid == 0 and problems and all(p.startswith("authorized_keys") for p in problems):
            # root's keys on the target are the operator's access to it: not replaced
            checks.append(replace(failed("users", user.name, _describe_user(user),
                                         _describe_user(there), "; ".join(problems)),
                                  status=Status.ACCEPTED,
                                  detail="accepted: root's keys are the operator's access to the "
                                         "target and are kept; " + "; ".join(problems)))
            continue
        checks.append(judged(not problems, "users", user.name, _describe_user(user),
                             _describe_user(there), "; ".join(problems) or note))
    names = {u.name for u in source.users}
    checks += [_own("users", u.name, _describe_user(u), u.name in ids.own_users)
               for u in sorted(target.users, key=lambda u: u.name) if u.name not in names]
    return checks


def _own(kind: str, name: str, found: str, before: bool) -> Check:
    what = "account" if kind == "users" else "group"
    return passed(kind, name, "not on the source", found,
                  f"the target's own {what}" + (" (there before the rebuild), left as it was"
                                                if before else ", made by its packages"))


def _describe_group(group: Group) -> str:
    return f"gid {group.gid}, members {','.join(sorted(group.members)) or '-'}"


def compare_groups(source: HostInventory, target: HostInventory,
                   crossing: Crossing | None = None, ids: AccountIds | None = None
                   ) -> list[Check]:
    """Each source group exists on the target with (at least) the same members; its gid is
    the source's or the plan's remap, except for the target's packages' groups. Across
    releases a missing system group is listed; the target's own groups are listed."""
    ids = ids or AccountIds()
    found = {g.name: g for g in target.groups}
    checks = []
    for group in sorted(source.groups, key=lambda g: (g.system, g.name)):
        there = found.get(group.name)
        if there is None and crossing is not None and group.system and not group.members:
            checks.append(_no_longer_created("groups", group.name, crossing))
            continue
        if there is None:
            checks.append(failed("groups", group.name, _describe_group(group), "no such group",
                                 "group missing"))
            continue
        problem, note = _id_problem("gid", group.name, group.gid, there.gid, group.system,
                                    ids.gids)
        problems = [problem] * bool(problem)
        missing = sorted(set(group.members) - set(there.members))
        if missing:
            problems.append(f"members missing: {', '.join(missing)}")
        checks.append(judged(not problems, "groups", group.name, _describe_group(group),
                             _describe_group(there), "; ".join(problems) or note))
    names = {g.name for g in source.groups}
    checks += [_own("groups", g.name, _describe_group(g), g.name in ids.own_groups)
               for g in sorted(target.groups, key=lambda g: g.name) if g.name not in names]
    return checks


def own_homes(source: HostInventory, target: HostInventory) -> list[str]:
    """The homes of the target's own accounts (not on the source): what is under them is
    the target's, not an extra of the restore."""
    names = {u.name for u in source.users}
    return sorted({u.home.rstrip("/") for u in target.users
                   if u.name not in names and u.home.count("/") >= 2})


def _digest(lines: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _release_default(check: Check, crossing: Crossing | None) -> Check:
    """Across releases, a packaged file the admin never changed is each release's default."""
    if crossing is None or not check.failed or not crossing.packaged_default(check.name):
        return check
    return replace(check, status=Status.PASS, detail=f"the packaged default of each release "
                   f"({crossing.label}), unchanged on the source: {check.detail}"[:400])


def compare_sudoers(source: HostInventory, target: HostInventory,
                    crossing: Crossing | None = None) -> list[Check]:
    """Each sudoers file of the source exists on the target with the same rules (content
    hash over the lines, comments and blank lines left out)."""
    found = {s.path: s for s in target.sudoers}
    checks = []
    for sudoers in sorted(source.sudoers, key=lambda s: s.path):
        there = found.get(sudoers.path)
        want = f"sha256 {_digest(sudoers.lines)} ({len(sudoers.lines)} rules)"
        if there is None:
            checks.append(failed("sudoers", sudoers.path, want, "missing", "sudoers file missing"))
            continue
        have = f"sha256 {_digest(there.lines)} ({len(there.lines)} rules)"
        lost = [line for line in sudoers.lines if line not in there.lines]
        checks.append(_release_default(judged(
            sudoers.lines == there.lines, "sudoers", sudoers.path, want, have,
            f"rules differ; missing: {'; '.join(lost)[:200]}" if lost else
            ("rules differ" if sudoers.lines != there.lines else "")), crossing))
    return checks


def _entries(crontab: Crontab) -> Counter[str]:
    return Counter(f"{e.schedule} {e.user + ' ' if e.user else ''}{e.command}"
                   for e in crontab.entries)


def compare_cron(source: HostInventory, target: HostInventory,
                 crossing: Crossing | None = None) -> list[Check]:
    """Each crontab of the source has the same entries (schedule, user, command) and
    environment on the target."""
    found = {c.path: c for c in target.crontabs}
    checks = []
    for crontab in sorted(source.crontabs, key=lambda c: c.path):
        want = _entries(crontab)
        summary = f"{sum(want.values())} entries"
        there = found.get(crontab.path)
        if there is None:
            checks.append(judged(not want, "cron", crontab.path, summary, "missing",
                                 "" if not want else "crontab missing"))
            continue
        have = _entries(there)
        problems = [f"missing: {e}" for e in sorted((want - have).elements())]
        problems += [f"unexpected: {e}" for e in sorted((have - want).elements())]
        if dict(crontab.environment) != dict(there.environment):
            problems.append("environment differs")
        check = judged(not problems, "cron", crontab.path, summary,
                       f"{sum(have.values())} entries", "; ".join(problems)[:400])
        checks.append(_release_default(check, crossing) if crontab.path.startswith("/etc/")
                      else check)
    return checks
