"""Fact family ``users``: accounts and groups (getent), which accounts have a usable
password, each account's authorized_keys, and sudoers.

The password hash never leaves the host: awk prints ``name 0|1`` from
/etc/shadow (1 = a hash is set: not empty, not locked with ``!``/``*``).
"""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, dedupe, first_part, split_parts, to_int
from evacuate.inventory.model import Accounts, Group, SudoersFile, User

SCRIPT = r"""
evac_part login-defs
grep -E '^[[:space:]]*(UID_MIN|GID_MIN)[[:space:]]' /etc/login.defs 2>/dev/null
evac_part passwd
getent passwd 2>/dev/null || cat /etc/passwd
evac_part group
getent group 2>/dev/null || cat /etc/group
evac_part has-password
[ -r /etc/shadow ] && awk -F: '{print $1, (($2 != "" && $2 !~ /^[!*]/) ? 1 : 0)}' /etc/shadow
getent passwd 2>/dev/null | while IFS=: read -r name _ _ _ _ home _; do
  for f in "$home/.ssh/authorized_keys" "$home/.ssh/authorized_keys2"; do
    [ -f "$f" ] || continue
    evac_part keys "$name"
    cat "$f"
  done
done
for f in /etc/sudoers /etc/sudoers.d/*; do
  [ -f "$f" ] || continue
  evac_part sudoers "$f"
  cat "$f"
done
:
"""

# Accounts below UID_MIN are system accounts, and so is nobody.
NOBODY_ID = 65534


def _login_defs(text: str) -> tuple[int, int]:
    values = {f[0]: to_int(f[1]) for f in (line.split() for line in text.splitlines())
              if len(f) >= 2}
    return values.get("UID_MIN") or 1000, values.get("GID_MIN") or 1000


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


def parse(text: str) -> Accounts:
    """Parse the ``users`` section into users, groups and sudoers files."""
    parts = split_parts(text)
    uid_min, gid_min = _login_defs(first_part(parts, "login-defs"))
    has_password = {
        f[0]: f[1] == "1"
        for f in (line.split() for line in first_part(parts, "has-password").splitlines())
        if len(f) == 2
    }
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
                            system=gid < gid_min or gid == NOBODY_ID))
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
            has_password=has_password.get(name, False),
            authorized_keys=tuple(keys.get(name, [])),
            system=uid < uid_min or uid == NOBODY_ID,
        ))
    return Accounts(users=tuple(users), groups=tuple(groups), sudoers=tuple(sudoers))


FACT = Fact(name="users", script=SCRIPT, parse=parse, default=Accounts, timeout=30)
