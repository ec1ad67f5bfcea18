#!/usr/bin/python
# The users role's groups and users in one module run (not one run of the group or user
# module per account): what ansible.builtin.group and ansible.builtin.user do with the
# options the role gives them, for all the accounts at once. Runs on the target as root.
from __future__ import annotations

DOCUMENTATION = r"""
module: accounts
short_description: Create and amend the plan's groups and users in one run
description:
  - Creates the missing groups (C(groupadd)) and users (C(useradd)) with the given ids,
    then gives the listed users exactly their supplementary groups, their shell and their
    lock (C(usermod)), sets the password hashes that differ (C(chpasswd -e), the hashes on
    its standard input, never on a command line) and the aging that differs (C(chage)).
  - What ansible.builtin.group and ansible.builtin.user do with the same options, one
    account after another, in one module run.
options:
  groups:
    description: Groups to create when missing; a null gid is chosen by the system.
    type: list
    elements: dict
    default: []
  create:
    description: >-
      Users to create when missing (name, uid, group, groups, home, shell, comment,
      system, create_home); a null uid is chosen by the system.
    type: list
    elements: dict
    default: []
  amend:
    description: >-
      Users to bring to their groups (exactly), shell, lock and shadow aging
      ("lastchg:min:max:warn:inactive:expire", "*" for a field that does not matter).
    type: list
    elements: dict
    default: []
  passwords:
    description: Password hashes by user name (a user with one is not locked).
    type: dict
    default: {}
  keys:
    description: >-
      Users (name, authorized_keys) whose ~/.ssh/authorized_keys is to hold exactly these
      lines (~/.ssh 0700 and the file 0600, theirs); an empty list removes the file.
    type: list
    elements: dict
    default: []
author: evacuate
"""

RETURN = r"""
groups_created: {description: The groups created., type: list, elements: str, returned: always}
users_created: {description: The users created., type: list, elements: str, returned: always}
users_amended: {description: The users whose groups, shell or lock changed., type: list, elements: str, returned: always}
passwords_set: {description: The users whose password hash was set., type: list, elements: str, returned: always}
aging_set: {description: The users whose aging was set., type: list, elements: str, returned: always}
keys_written: {description: The users whose authorized_keys was written or removed., type: list, elements: str, returned: always}
"""

import os  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

PASSWD, GROUP, SHADOW = "/etc/passwd", "/etc/group", "/etc/shadow"
AGING_FLAGS = ("-d", "-m", "-M", "-W", "-I", "-E")


@dataclass(frozen=True)
class Accounts:
    """The target's local accounts: /etc/passwd, /etc/group and /etc/shadow as read."""

    users: dict[str, list[str]]    # name: [password, uid, gid, comment, home, shell]
    groups: dict[str, list[str]]   # name: [password, gid, members]
    shadow: dict[str, list[str]]   # name: [hash, lastchg, min, max, warn, inactive, expire, ...]

    @classmethod
    def parse(cls, passwd: str, group: str, shadow: str) -> Accounts:
        return cls(_table(passwd, 7), _table(group, 4), _table(shadow, 9))

    def members(self, user: str) -> set[str]:
        """The groups that list the user as a member (its primary group too if listed)."""
        return {name for name, fields in self.groups.items() if user in fields[2].split(",")}


def _table(text: str, width: int) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", "+", "-")):
            continue
        fields = (line.split(":") + [""] * width)[:width]
        table.setdefault(fields[0], fields[1:])
    return table


def group_commands(wanted: list[dict[str, Any]], have: Accounts) -> list[list[str]]:
    commands = []
    for group in wanted:
        if group["name"] in have.groups:
            continue
        gid = [] if group.get("gid") is None else ["-g", str(group["gid"])]
        system = ["-r"] if group.get("system") else []
        commands.append(["groupadd", *gid, *system, group["name"]])
    return commands


def create_commands(wanted: list[dict[str, Any]], have: Accounts) -> list[list[str]]:
    commands = []
    for user in wanted:
        name = user["name"]
        if name in have.users:
            continue
        cmd = ["useradd"]
        if user.get("uid") is not None:
            cmd += ["-u", str(user["uid"])]
        if user.get("group") is not None:
            _need_group(have, user["group"], name)
            cmd += ["-g", user["group"]]
        elif name in have.groups:
            cmd.append("-N")  # a group of its name exists: useradd must not make one
        if user.get("groups"):
            for group in user["groups"]:
                _need_group(have, group, name)
            cmd += ["-G", ",".join(user["groups"])]
        for key, flag in (("comment", "-c"), ("home", "-d"), ("shell", "-s")):
            if user.get(key) is not None:
                cmd += [flag, user[key]]
        cmd.append("-m" if user.get("create_home") else "-M")
        if user.get("system"):
            cmd.append("-r")
        commands.append([*cmd, name])
    return commands


def amend_commands(wanted: list[dict[str, Any]], have: Accounts,
                   passwords: dict[str, str]) -> list[list[str]]:
    """usermod for each user whose groups, shell or lock differ (as ansible.builtin.user with
    append: false, and password_lock only for a user without a hash to set)."""
    commands = []
    for user in wanted:
        name = user["name"]
        if name not in have.users:
            raise AccountError(f"user {name} does not exist")
        cmd = []
        if user.get("groups") is not None:
            for group in user["groups"]:
                _need_group(have, group, name)
            if set(user["groups"]) != have.members(name):
                cmd += ["-G", ",".join(user["groups"])]
        if user.get("shell") is not None and have.users[name][5] != user["shell"]:
            cmd += ["-s", user["shell"]]
        current = have.shadow.get(name, [""])[0]
        if user.get("locked") and name not in passwords and not current.startswith("!"):
            cmd.append("-L")
        if cmd:
            commands.append(["usermod", *cmd, name])
    return commands


def password_changes(passwords: dict[str, str], have: Accounts) -> list[str]:
    """The users whose hash differs (a lock's "!" aside, as ansible.builtin.user compares)."""
    return [name for name, hash_ in passwords.items()
            if have.shadow.get(name, [""])[0].lstrip("!") != hash_.lstrip("!")]


def aging_commands(wanted: list[dict[str, Any]], have: Accounts) -> list[list[str]]:
    """chage with all the fields the plan gives, for each user whose aging differs ("" is
    an empty field: chage's -1)."""
    commands = []
    for user in wanted:
        if user.get("shadow") is None or user["name"] not in have.shadow:
            continue
        want = (user["shadow"].split(":") + ["*"] * 6)[:6]
        current = have.shadow[user["name"]][1:7]
        if all(want[i] in ("*", current[i]) for i in range(6)):
            continue
        cmd = ["chage"]
        for i, flag in enumerate(AGING_FLAGS):  # (no zip(strict=): the target's python3 may be 3.9)
            if want[i] != "*":
                cmd += [flag, want[i] if want[i] != "" else "-1"]
        commands.append([*cmd, user["name"]])
    return commands


def write_keys(user: dict[str, Any], have: Accounts, check: bool) -> bool:
    """~/.ssh/authorized_keys with exactly the user's lines, owned by the user (its primary
    gid), ~/.ssh 0700 and the file 0600 as ansible.builtin.file and .copy would leave them;
    no lines: the file removed. A ~/.ssh that is a symlink is refused. True: it changed."""
    name = user["name"]
    if name not in have.users:
        raise AccountError(f"user {name} does not exist")
    uid, gid, home = int(have.users[name][1]), int(have.users[name][2]), have.users[name][4]
    ssh = os.path.join(home, ".ssh")
    path = os.path.join(ssh, "authorized_keys")
    if os.path.islink(ssh):
        raise AccountError(f"{ssh} is a symlink: not written")
    lines = user.get("authorized_keys") or []
    if lines and not os.path.isdir(home):  # as ansible.builtin.file makes the missing parts
        if not check:
            os.makedirs(os.path.dirname(home) or "/", mode=0o755, exist_ok=True)
        _owned(home, 0o700, uid, gid, check, directory=True)
    if not lines:
        if not os.path.lexists(path):
            return False
        if not check:
            os.unlink(path)
        return True
    content = ("\n".join(lines) + "\n").encode()
    changed = _owned(ssh, 0o700, uid, gid, check, directory=True)
    try:
        with open(path, "rb") as handle:
            same = handle.read() == content
    except OSError:
        same = False
    if not same:
        if not check:
            temporary = os.path.join(ssh, ".authorized_keys.evacuate")
            with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                              0o600), "wb") as handle:
                handle.write(content)
            os.chown(temporary, uid, gid)
            os.rename(temporary, path)
        return True
    return _owned(path, 0o600, uid, gid, check) or changed


def _owned(path: str, mode: int, uid: int, gid: int, check: bool,
           directory: bool = False) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if check:
            return True
        os.mkdir(path, mode)
        info = os.lstat(path)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return True
    if directory and not os.path.isdir(path):
        raise AccountError(f"{path} is not a directory")
    changed = False
    if (info.st_uid, info.st_gid) != (uid, gid):
        changed = True
        if not check:
            os.chown(path, uid, gid)
    if info.st_mode & 0o7777 != mode:
        changed = True
        if not check:
            os.chmod(path, mode)
    return changed


class AccountError(Exception):
    pass


def _need_group(have: Accounts, group: str, user: str) -> None:
    if group not in have.groups:
        raise AccountError(f"group {group} of user {user} does not exist")


def _read() -> Accounts:
    def text(path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""
    return Accounts.parse(text(PASSWD), text(GROUP), text(SHADOW))


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "groups": {"type": "list", "elements": "dict", "default": []},
            "create": {"type": "list", "elements": "dict", "default": []},
            "amend": {"type": "list", "elements": "dict", "default": []},
            "passwords": {"type": "dict", "default": {}, "no_log": True},
            "keys": {"type": "list", "elements": "dict", "default": [], "no_log": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    passwords = {str(k): str(v) for k, v in params["passwords"].items()}
    result: dict[str, Any] = {"changed": False, "groups_created": [], "users_created": [],
                              "users_amended": [], "passwords_set": [], "aging_set": [],
                              "keys_written": []}

    def run(commands: list[list[str]], key: str) -> None:
        for cmd in commands:
            result[key].append(cmd[-1])
            result["changed"] = True
            if module.check_mode:
                continue
            rc, _, err = module.run_command(cmd)
            if rc != 0:
                module.fail_json(msg=f"{cmd[0]} {cmd[-1]}: {err.strip() or f'exit {rc}'}",
                                 **result)

    try:
        run(group_commands(params["groups"], _read()), "groups_created")
        creates = create_commands(params["create"], _read())
        if not module.check_mode:  # as the user module: useradd -m makes the home, not its parent
            for user in params["create"]:
                if user.get("create_home") and user.get("home"):
                    os.makedirs(os.path.dirname(user["home"]), mode=0o755, exist_ok=True)
        run(creates, "users_created")
        have = _read()
        if module.check_mode:  # what is not created yet cannot be amended
            params["amend"] = [u for u in params["amend"] if u["name"] in have.users]
        run(amend_commands(params["amend"], have, passwords), "users_amended")
        have = _read()
        changes = password_changes(passwords, have)
        if changes:
            result["passwords_set"], result["changed"] = changes, True
            if not module.check_mode:
                lines = "".join(f"{name}:{passwords[name]}\n" for name in changes)
                rc, _, err = module.run_command(["chpasswd", "-e"], data=lines,
                                                binary_data=True)
                if rc != 0:
                    module.fail_json(msg=f"chpasswd: {err.strip() or f'exit {rc}'}", **result)
        have = _read()
        run(aging_commands(params["amend"], have), "aging_set")
        for user in params["keys"]:
            if module.check_mode and user["name"] not in have.users:
                continue
            if write_keys(user, have, module.check_mode):
                result["keys_written"].append(user["name"])
                result["changed"] = True
    except (AccountError, OSError) as error:
        module.fail_json(msg=str(error), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
