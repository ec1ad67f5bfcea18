#!/usr/bin/python3
"""Set the host state a rebuild carries besides files, on the target (evacuate's files
step runs it; so does the files role). Reads a JSON document (a file named as the first
argument, else stdin), prints a JSON report: {"changed": [...], "warnings": [...]}.

phase "before" (the files are restored next): lift the immutable/append-only attributes of
the files about to be restored, so that the restore (or a re-run) can write them.
phase "after": mirror the enable-symlink farms, give the listed directories their mode and
owner, give the listed package files (``files``: the target's package copies of files whose
mode or owner the source's admin changed) the source's owner and mode, apply the sysctl
files, set the attributes again. Python 3 standard library only.
"""

from __future__ import annotations

import glob
import json
import os
import stat
import subprocess
import sys
from typing import Any


def run(argv: list[str]) -> tuple[int, str]:
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


def farms(document: dict[str, Any], changed: list[str], warnings: list[str]) -> Any:
    reload_units = False
    for farm in document.get("farms", []):
        if farm.get("markers"):
            markers(farm, changed)
            continue
        wanted: dict[str, dict[str, str]] = {}
        for link in farm["links"]:
            wanted.setdefault(link["directory"], {})[link["name"]] = link["target"]
        managed = set(farm.get("managed", []))
        directories = set(glob.glob(farm["pattern"])) | set(wanted)
        for directory in sorted(directories):
            links = wanted.get(directory, {})
            present = os.listdir(directory) if os.path.isdir(directory) else []
            for name in sorted(present):
                path = os.path.join(directory, name)
                if name in links or not os.path.islink(path):
                    continue
                pointed = os.path.basename(os.readlink(path))  # an alias: the unit it names
                if farm.get("exact", True) or name in managed or pointed in managed:
                    os.unlink(path)
                    changed.append("removed " + path)
                    reload_units = reload_units or not farm.get("exact", True)
            for name, target in sorted(links.items()):
                path = os.path.join(directory, name)
                if os.path.lexists(path) and not os.path.islink(path):
                    warnings.append(path + " is not a symlink on the target: left as it is")
                    continue
                if not os.path.exists(os.path.join(directory, target)):
                    # e.g. a module of the source's release that the target's does not ship:
                    # a dangling enable link (made here, or restored with the files) would
                    # keep the service from starting
                    warnings.append(path + " -> " + target + ": the target has no such file: "
                                    "not linked")
                    if os.path.islink(path):
                        os.unlink(path)
                        changed.append("removed " + path)
                    continue
                if os.path.islink(path) and os.readlink(path) == target:
                    continue
                os.makedirs(directory, mode=0o755, exist_ok=True)
                if os.path.lexists(path):
                    os.unlink(path)
                os.symlink(target, path)
                changed.append("linked " + path)
                reload_units = reload_units or not farm.get("exact", True)
    if reload_units and os.path.isdir("/run/systemd/system"):
        run(["systemctl", "daemon-reload"])


def markers(farm: dict[str, Any], changed: list[str]) -> Any:
    """A farm of empty marker files: each directory holds exactly the source's."""
    wanted: dict[str, set[str]] = {}
    for link in farm["links"]:
        wanted.setdefault(link["directory"], set()).add(link["name"])
    for directory in sorted(set(glob.glob(farm["pattern"])) | set(wanted)):
        names = wanted.get(directory, set())
        present = os.listdir(directory) if os.path.isdir(directory) else []
        for name in sorted(present):
            path = os.path.join(directory, name)
            if name not in names and os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
                changed.append("removed " + path)
        for name in sorted(names - set(present)):
            os.makedirs(directory, mode=0o755, exist_ok=True)
            with open(os.path.join(directory, name), "w"):
                pass
            changed.append("marked " + os.path.join(directory, name))


def directories(document: dict[str, Any], changed: list[str], warnings: list[str]) -> Any:
    for item in document.get("dirs", []):
        path, mode = item["path"], int(item["mode"])
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue  # e.g. a symlink on the target where the source has a directory
        uid, gid = item["uid"], item["gid"]
        try:
            import grp
            import pwd
            if item.get("user") and not item["user"].isdigit():
                uid = pwd.getpwnam(item["user"]).pw_uid
            if item.get("group") and not item["group"].isdigit():
                gid = grp.getgrnam(item["group"]).gr_gid
        except KeyError:
            pass  # a name the target does not know: the number, as tar does
        if (info.st_uid, info.st_gid) != (uid, gid):
            os.lchown(path, uid, gid)
            changed.append("owner " + path)
        if (info.st_mode & 0o7777) != (mode & 0o7777):
            os.chmod(path, mode & 0o7777)
            changed.append("mode %s %o" % (path, mode & 0o7777))


def package_files(document: dict[str, Any], changed: list[str], warnings: list[str]) -> Any:
    import grp
    import pwd
    unknown = []
    for item in document.get("files", []):
        path, mode = item["path"], int(item["mode"]) & 0o7777
        try:
            info = os.lstat(path)
        except OSError:
            continue  # the target's packages do not install it: verify says so
        if not stat.S_ISREG(info.st_mode):
            continue
        try:
            uid = pwd.getpwnam(item["user"]).pw_uid if not item["user"].isdigit() \
                else int(item["user"])
            gid = grp.getgrnam(item["group"]).gr_gid if not item["group"].isdigit() \
                else int(item["group"])
        except KeyError:
            unknown.append(path)
            continue
        if (info.st_uid, info.st_gid) != (uid, gid):
            os.chown(path, uid, gid)  # clears setuid/setgid: the chmod below sets them
            changed.append("owner " + path)
        if (os.lstat(path).st_mode & 0o7777) != mode:
            os.chmod(path, mode)
            changed.append("mode %s %o" % (path, mode))
    if unknown:
        warnings.append("%d package files keep their mode: their owner is unknown on the "
                        "target: %s" % (len(unknown), ", ".join(unknown[:5])))


def sysctl(document: dict[str, Any], changed: list[str], warnings: list[str]) -> Any:
    for path in document.get("sysctl_files", []):
        if not os.path.isfile(path):
            warnings.append("sysctl: %s is not on the target: not applied" % path)
            continue
        status, output = run(["sysctl", "-p", path])
        applied = [line for line in output.splitlines() if " = " in line]
        problems = [line for line in output.splitlines() if " = " not in line and line]
        changed.extend("sysctl " + line for line in applied)
        if status != 0 or problems:
            warnings.extend("sysctl %s: %s" % (path, line) for line in problems or [output])


def attributes(document: dict[str, Any], phase: str, changed: list[str], warnings: list[str]) -> Any:
    for path, flags in document.get("attributes", []):
        if not os.path.lexists(path):
            continue
        sign = "-" if phase == "before" else "+"
        status, output = run(["chattr", sign + flags, path])
        if status != 0:
            warnings.append("chattr %s%s %s: %s" % (sign, flags, path, output or status))
        elif phase == "after":
            changed.append("chattr +%s %s" % (flags, path))


def main() -> None:
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as stream:
            document = json.load(stream)
    else:
        document = json.load(sys.stdin)
    changed: list[str] = []
    warnings: list[str] = []
    phase = document.get("phase", "after")
    if phase == "after":
        farms(document, changed, warnings)
        directories(document, changed, warnings)
        package_files(document, changed, warnings)
        sysctl(document, changed, warnings)
    attributes(document, phase, changed, warnings)
    json.dump({"changed": changed, "warnings": warnings}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
