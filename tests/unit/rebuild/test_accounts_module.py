"""The users role's accounts module (playbooks/roles/users/library/accounts.py): the
commands it derives from the target's /etc/passwd, /etc/group and /etc/shadow are the ones
ansible.builtin.group and ansible.builtin.user run with the role's options, one module run
for all accounts; and run by real Ansible (check mode, on this machine, nothing changed) it
takes the role's arguments and never shows a password hash."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).parents[3]
LIBRARY = REPO / "playbooks" / "roles" / "users" / "library"
VENV_BIN = Path(sys.executable).parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accounts_module", LIBRARY / "accounts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


accounts = _load()

PASSWD = """root:x:0:0:root:/root:/bin/bash
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
debian:x:1000:1000:Debian:/home/debian:/bin/bash
bob:x:1002:1002:Bob:/home/bob:/bin/sh
+@nis::::::
"""
GROUP = """root:x:0:
sudo:x:27:debian
www-data:x:33:
debian:x:1000:
bob:x:1002:bob
webdev:x:1500:www-data,bob
# a comment
"""
SHADOW = """root:*:19000:0:99999:7:::
www-data:*:19000:0:99999:7:::
debian:!$6$x$y:19000:0:99999:7:::
bob:$6$old$hash:19000:1:90:14:30::
"""


@pytest.fixture
def have() -> object:
    return accounts.Accounts.parse(PASSWD, GROUP, SHADOW)


def test_the_files_are_parsed_without_comments_or_nis_lines(have: object) -> None:
    assert set(have.users) == {"root", "www-data", "debian", "bob"}
    assert have.users["bob"] == ["x", "1002", "1002", "Bob", "/home/bob", "/bin/sh"]
    assert "# a comment" not in have.groups and have.groups["webdev"][1] == "1500"
    assert have.shadow["bob"][:7] == ["$6$old$hash", "19000", "1", "90", "14", "30", ""]
    assert have.members("bob") == {"bob", "webdev"}  # the primary group too when listed
    assert have.members("www-data") == {"webdev"}
    short = accounts.Accounts.parse("carl:x:1003\n", "", "carl:!\n")
    assert short.users["carl"][4:] == ["", ""] and short.shadow["carl"][1:7] == [""] * 6


def test_missing_groups_are_made_with_their_gid_or_the_systems(have: object) -> None:
    wanted = [{"name": "webdev", "gid": 1500, "system": False},
              {"name": "alice", "gid": 1003, "system": False},
              {"name": "notesd", "gid": None, "system": True}]
    assert accounts.group_commands(wanted, have) == [
        ["groupadd", "-g", "1003", "alice"], ["groupadd", "-r", "notesd"]]


def test_missing_users_are_made_as_the_user_module_makes_them(have: object) -> None:
    wanted = [
        {"name": "bob", "uid": 1002},  # there: untouched
        {"name": "alice", "uid": 1003, "group": "webdev", "groups": ["sudo", "webdev"],
         "home": "/home/alice", "shell": "/bin/bash", "comment": "Alice Admin",
         "system": False, "create_home": True, "authorized_keys": ["ssh-ed25519 AAAA"]},
        {"name": "notesd", "uid": None, "home": "/srv/notes", "shell": "/usr/sbin/nologin",
         "system": True, "create_home": False, "groups": None},
        {"name": "debian2", "uid": 1004, "groups": []},
    ]
    assert accounts.create_commands(wanted, have) == [
        ["useradd", "-u", "1003", "-g", "webdev", "-G", "sudo,webdev", "-c", "Alice Admin",
         "-d", "/home/alice", "-s", "/bin/bash", "-m", "alice"],
        ["useradd", "-d", "/srv/notes", "-s", "/usr/sbin/nologin", "-M", "-r", "notesd"],
        ["useradd", "-u", "1004", "-M", "debian2"],
    ]
    # a group of the user's name exists and no group is given: useradd must not make one
    assert accounts.create_commands([{"name": "webdev", "uid": 1600}], have) == [
        ["useradd", "-u", "1600", "-N", "-M", "webdev"]]


def test_a_user_whose_group_does_not_exist_fails_naming_both(have: object) -> None:
    with pytest.raises(accounts.AccountError, match="group ghosts of user carl does not exist"):
        accounts.create_commands([{"name": "carl", "groups": ["ghosts"]}], have)
    with pytest.raises(accounts.AccountError, match="group nope of user carl"):
        accounts.create_commands([{"name": "carl", "group": "nope"}], have)
    with pytest.raises(accounts.AccountError, match="user carl does not exist"):
        accounts.amend_commands([{"name": "carl"}], have, {})


def test_groups_are_set_exactly_and_shell_and_lock_only_when_they_differ(have: object) -> None:
    wanted = [
        {"name": "bob", "groups": ["bob", "webdev"], "shell": "/bin/sh", "locked": True},
        {"name": "www-data", "groups": ["www-data", "webdev"], "shell": "/usr/sbin/nologin"},
        {"name": "debian", "groups": [], "locked": True},  # already locked ("!")
        {"name": "root", "shell": "/bin/zsh", "locked": True},
    ]
    # bob has a hash to set: not locked; www-data: its primary group listed, not a member
    assert accounts.amend_commands(wanted, have, {"bob": "$6$new$hash"}) == [
        ["usermod", "-G", "www-data,webdev", "www-data"],
        ["usermod", "-G", "", "debian"],
        ["usermod", "-s", "/bin/zsh", "-L", "root"],
    ]
    assert accounts.amend_commands(wanted[:1], have, {}) == [["usermod", "-L", "bob"]]
    same = [{"name": "bob", "groups": ["webdev", "bob"], "shell": "/bin/sh"}]
    assert accounts.amend_commands(same, have, {}) == []


def test_a_hash_is_set_when_it_differs_a_lock_aside(have: object) -> None:
    passwords = {"bob": "$6$old$hash", "debian": "$6$x$y", "www-data": "$6$new$hash"}
    assert accounts.password_changes(passwords, have) == ["www-data"]


def test_aging_is_set_with_all_the_plans_fields_when_one_differs(have: object) -> None:
    wanted = [
        {"name": "bob", "shadow": "*:1:90:14:30:"},      # as the source: nothing
        {"name": "root", "shadow": "*:0:99999:7::"},      # as the source: nothing
        {"name": "www-data", "shadow": "19000:1:90:14:30:20500"},
        {"name": "debian", "shadow": "*:::::"},            # min "" (chage -1) differs from 0
        {"name": "carl", "shadow": "1:2:3:4:5:6"},         # not on the target
        {"name": "bob"},                                  # no aging in the plan
    ]
    assert accounts.aging_commands(wanted, have) == [
        ["chage", "-d", "19000", "-m", "1", "-M", "90", "-W", "14", "-I", "30", "-E", "20500",
         "www-data"],
        ["chage", "-m", "-1", "-M", "-1", "-W", "-1", "-I", "-1", "-E", "-1", "debian"],
    ]


def test_real_ansible_takes_the_roles_arguments_and_masks_the_hashes(tmp_path: Path) -> None:
    """Check mode on this machine: the accounts are only read. The hash of an account that
    does not exist is one to set (so it is in the arguments Ansible handles) and must not
    appear in Ansible's output, even at -vvv (the invocation's arguments)."""
    canary = "$6$canary$evacuate-accounts-module-canary-hash"
    args = {"groups": [{"name": "root", "gid": 0, "system": True}],
            "create": [{"name": "root", "uid": 0}],
            "amend": [{"name": "root", "shell": "/bin/evacuate-no-such-shell"}],
            "passwords": {"evacuate-no-such-user": canary},
            "keys": [{"name": "evacuate-no-such-user", "authorized_keys": ["ssh-ed25519 A"]}]}
    env = dict(os.environ, ANSIBLE_LIBRARY=str(LIBRARY), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(
        [str(VENV_BIN / "ansible"), "localhost", "-c", "local", "--check", "-vvv",
         "-e", f"ansible_python_interpreter={sys.executable}",
         "-m", "accounts", "-a", json.dumps(args)],
        capture_output=True, text=True, env=env, timeout=120, check=False, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    # the ad-hoc command's answer: "localhost | CHANGED => {...}"
    answer = proc.stdout[proc.stdout.index("localhost | CHANGED => ") + 23:]
    result = json.JSONDecoder().raw_decode(answer)[0]
    assert result["changed"] is True
    assert result["groups_created"] == result["users_created"] == []
    assert result["users_amended"] == ["root"]
    assert result["passwords_set"] == ["evacuate-no-such-user"]
    assert result["keys_written"] == []
    assert canary not in output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # the arguments were shown, masked


def _owner_accounts(home: Path) -> object:
    uid, gid = os.getuid(), os.getgid()
    return accounts.Accounts.parse(f"carl:x:{uid}:{gid}:Carl:{home}:/bin/sh\n", "", "")


def test_exactly_the_listed_keys_are_written_theirs_and_private(tmp_path: Path) -> None:
    home = tmp_path / "home" / "carl"
    have = _owner_accounts(home)
    user = {"name": "carl", "authorized_keys": ["ssh-ed25519 AAAA one", "ssh-rsa BBBB two"]}
    assert accounts.write_keys(user, have, check=True) is True
    assert not home.exists()  # check mode: nothing made
    assert accounts.write_keys(user, have, check=False) is True
    keys = home / ".ssh" / "authorized_keys"
    assert keys.read_text() == "ssh-ed25519 AAAA one\nssh-rsa BBBB two\n"
    assert (home.stat().st_mode & 0o777, (home / ".ssh").stat().st_mode & 0o777,
            keys.stat().st_mode & 0o777) == (0o700, 0o700, 0o600)
    assert (keys.stat().st_uid, keys.stat().st_gid) == (os.getuid(), os.getgid())
    assert accounts.write_keys(user, have, check=False) is False  # a second run: no change
    (home / ".ssh" / "known_hosts").write_text("kept\n")
    keys.chmod(0o644)
    assert accounts.write_keys(user, have, check=True) is True  # the mode differs
    assert accounts.write_keys(user, have, check=False) is True
    assert keys.stat().st_mode & 0o777 == 0o600
    keys.write_text("ssh-ed25519 CCCC someone-elses\n")
    assert accounts.write_keys(user, have, check=False) is True
    assert keys.read_text() == "ssh-ed25519 AAAA one\nssh-rsa BBBB two\n"
    assert accounts.write_keys({"name": "carl", "authorized_keys": []}, have, check=False)
    assert not keys.exists() and (home / ".ssh" / "known_hosts").read_text() == "kept\n"
    assert accounts.write_keys({"name": "carl", "authorized_keys": []}, have, check=False) is False
    assert sorted(p.name for p in (home / ".ssh").iterdir()) == ["known_hosts"]


def test_a_symlinked_ssh_directory_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "carl"
    (tmp_path / "elsewhere").mkdir()
    home.mkdir()
    (home / ".ssh").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(accounts.AccountError, match=r"\.ssh is a symlink"):
        accounts.write_keys({"name": "carl", "authorized_keys": ["ssh-ed25519 A"]},
                            _owner_accounts(home), check=False)
    assert not list((tmp_path / "elsewhere").iterdir())
