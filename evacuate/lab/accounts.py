"""Accounts a lab host has before anything is evacuated onto it, as in hosters' cloud images
(``debian`` at uid/gid 1000 with a home, in the admin groups): written into the host's root
file system before it boots, the way the image's first boot would have made them."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LabAccount:
    name: str
    uid: int  # also the gid of its own group
    groups: tuple[str, ...] = ()  # supplementary groups (existing ones)
    shell: str = "/bin/bash"
    comment: str = ""


CLOUD_ACCOUNTS = (
    LabAccount("debian", 1000, ("adm", "sudo", "audio", "dip", "video", "plugdev"),
               comment="Debian"),
    LabAccount("ops", 1001, ("adm",), comment="Hoster operations"),
)
"""What the default lab-target has: a cloud image's user and another pre-existing account."""


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _add_members(group_file: Path, members: dict[str, list[str]], field: int) -> None:
    lines = []
    for line in group_file.read_text(encoding="utf-8").splitlines():
        fields = line.split(":")
        if len(fields) > field and fields[0] in members:
            have = [m for m in fields[field].split(",") if m]
            fields[field] = ",".join(have + [m for m in members[fields[0]] if m not in have])
        lines.append(":".join(fields))
    group_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


def add_accounts(root: Path, accounts: tuple[LabAccount, ...], days: int) -> None:
    """Add ``accounts`` (missing from ``root``'s passwd) with locked passwords, their own
    groups and homes copied from /etc/skel; ``days``: the last password change."""
    etc = root / "etc"
    known = {line.split(":", 1)[0] for line in (etc / "passwd").read_text().splitlines()}
    members: dict[str, list[str]] = {}
    for account in accounts:
        if account.name in known:
            continue
        home = f"/home/{account.name}"
        _append(etc / "passwd", f"{account.name}:x:{account.uid}:{account.uid}:"
                                f"{account.comment}:{home}:{account.shell}")
        _append(etc / "shadow", f"{account.name}:!:{days}:0:99999:7:::")
        _append(etc / "group", f"{account.name}:x:{account.uid}:")
        if (etc / "gshadow").exists():
            _append(etc / "gshadow", f"{account.name}:!::")
        for group in account.groups:
            members.setdefault(group, []).append(account.name)
        target = root / home.lstrip("/")
        shutil.copytree(etc / "skel", target, symlinks=True, dirs_exist_ok=True)
        for folder, _dirs, files in os.walk(target):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                os.lchown(name, account.uid, account.uid)
        target.chmod(0o700)
    _add_members(etc / "group", members, 3)
    if (etc / "gshadow").exists():
        _add_members(etc / "gshadow", members, 3)
