"""Fact family ``users``: accounts and groups (getent), their state from /etc/shadow,
each account's authorized_keys, sudoers, the host's id ranges, and which packages create
which accounts.

The password hash never leaves the host: awk prints ``name 0|1 0|1`` and the aging fields
of /etc/shadow (1 = a hash is set: not empty, not locked with ``!``/``*``; then locked).

Which accounts come from packages (``created_by``) is read from the host itself: the
lines of the packages' maintainer scripts that call adduser/useradd/addgroup/groupadd
and the packages' sysusers.d entries, matched to account names word by word.
"""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, dedupe, first_part, snippet, split_parts, to_int
from evacuate.inventory.model import Accounts, Group, IdRanges, SudoersFile, User

# Accounts below UID_MIN are system accounts (the host's own login.defs), and so is nobody.
NOBODY_ID = 65534
_LOGIN_DEFS = {"UID_MIN": "uid_min", "UID_MAX": "uid_max", "GID_MIN": "gid_min",
               "GID_MAX": "gid_max", "SYS_UID_MIN": "sys_uid_min", "SYS_UID_MAX": "sys_uid_max",
               "SYS_GID_MIN": "sys_gid_min", "SYS_GID_MAX": "sys_gid_max"}
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\$?")


def _ranges(text: str) -> IdRanges:
    values: dict[str, int] = {}
    for fields in (line.split() for line in text.splitlines()):
        if len(fields) >= 2 and fields[0] in _LOGIN_DEFS and (number := to_int(fields[1])):
            values[_LOGIN_DEFS[fields[0]]] = number
    return IdRanges(**values)


def _authorized_keys(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _sudoers_lines(text: str) -> tuple[str, ...]:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        # "#include" and "#includedir" are directives, not comments.
        if not stripped or (stripped.startswith("#") and not stripped.startswith("#include")):
            continue
        lines.append(stripped)
    return tuple(lines)


def _days(field: str) -> int | None:
    return None if field in ("-", "") else to_int(field)


def _shadow(text: str) -> dict[str, dict[str, object]]:
    """name → User fields from the ``shadow`` part (or the older ``has-password`` one)."""
    state: dict[str, dict[str, object]] = {}
    for fields in (line.split() for line in text.splitlines()):
        if len(fields) < 2:
            continue
        values: dict[str, object] = {"has_password": fields[1] == "1"}
        if len(fields) >= 9:
            values["locked"] = fields[2] == "1"
            for key, field in zip(("last_change", "min_days", "max_days", "warn_days",
                                   "inactive_days", "expire_date"), fields[3:9], strict=True):
                values[key] = _days(field)
        state[fields[0]] = values
    return state


def _creators(text: str) -> dict[str, tuple[str, ...]]:
    """account name → the packages whose account-creating lines name it."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        package, _, rest = line.partition(" ")
        if not package or package == "?":
            continue
        if rest.startswith("sysusers "):
            words = rest.split()[2:3]  # "u name id ...", "g name", "m user group": the name
        else:
            words = _WORD.findall(rest.split("#", 1)[0])
        for word in words:
            if package not in found.setdefault(word, []):
                found[word].append(package)
    return {name: tuple(sorted(packages)) for name, packages in found.items()}


def parse(text: str) -> Accounts:
    """Parse the ``users`` section into users, groups, sudoers files and id ranges."""
    parts = split_parts(text)
    ranges = _ranges(first_part(parts, "login-defs"))
    state = _shadow(first_part(parts, "shadow") or first_part(parts, "has-password"))
    creators = _creators(first_part(parts, "creators"))
    keys: dict[str, list[str]] = {}
    sudoers: list[SudoersFile] = []
    for part in parts:
        if part.kind == "keys":
            keys.setdefault(part.args, []).extend(_authorized_keys(part.text))
        elif part.kind == "sudoers":
            sudoers.append(SudoersFile(path=part.args, lines=_sudoers_lines(part.text)))

    groups: list[Group] = []
    gid_names: dict[int, str] = {}
    memberships: dict[str, list[str]] = {}
    for line in first_part(parts, "group").splitlines():
        fields = line.split(":")
        gid = to_int(fields[2]) if len(fields) >= 4 else None
        if gid is None:
            continue
        members = tuple(m for m in fields[3].split(",") if m)
        groups.append(Group(name=fields[0], gid=gid, members=members,
                            system=gid < ranges.gid_min or gid == NOBODY_ID,
                            created_by=creators.get(fields[0], ())))
        gid_names.setdefault(gid, fields[0])
        for member in members:
            memberships.setdefault(member, []).append(fields[0])

    users: list[User] = []
    for line in first_part(parts, "passwd").splitlines():
        fields = line.split(":")
        if len(fields) < 7:
            continue
        uid, gid = to_int(fields[2]), to_int(fields[3])
        if uid is None or gid is None:
            continue
        name = fields[0]
        primary = gid_names.get(gid, "")
        users.append(User(
            name=name, uid=uid, gid=gid, gecos=fields[4], home=fields[5], shell=fields[6],
            groups=dedupe([primary, *memberships.get(name, [])]),
            authorized_keys=tuple(keys.get(name, [])),
            system=uid < ranges.uid_min or uid == NOBODY_ID,
            created_by=creators.get(name, ()),
            **state.get(name, {}),  # type: ignore[arg-type]
        ))
    return Accounts(users=tuple(users), groups=tuple(groups), sudoers=tuple(sudoers),
                    ranges=ranges)


FACT = Fact(name="users", script=snippet("users"), parse=parse, default=Accounts, timeout=30)
