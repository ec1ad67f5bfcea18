"""Which of the snapshot's entries a rebuild restores onto the target, and which it must not,
each by a named rule with its reason (the snapshot's own rules, which decide what is read
from the source at all, are in evacuate.snapshot.exclusion).

A snapshot taken by exclusion (its manifest has rule totals) is restored whole, minus the
entries that make up the *target's* identity and plumbing (its fstab, network, host keys,
accounts databases, boot), the apt sources and sudoers (which the roles carry), and root's
SSH keys (the operator's way in). A snapshot of an older evacuate (chosen by inclusion)
restores its data trees whole and, under /etc, only the changed conffiles and unowned files.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable

from evacuate.plan.model import RebuildPlan
from evacuate.snapshot.exclusion import Rule, RuleTotal, Tally, tree_regex
from evacuate.snapshot.manifest import FileEntry

IDENTITY = Rule("target-identity", "the target's own identity and network: its name, "
                "addresses, mounts, host keys and machine id stay as the hoster set them up",
                patterns=("/etc/fstab", "/etc/crypttab", "/etc/hostname", "/etc/hosts",
                          "/etc/resolv.conf", "/etc/machine-id",
                          "/etc/network", "/etc/netplan", "/etc/systemd/network",
                          "/etc/ssh/ssh_host_*", "/etc/cloud", "/etc/udev", "/etc/timezone",
                          "/etc/localtime", "/etc/adjtime"))
APT = Rule("apt-sources", "apt's configuration: the distribution's mirror is the target's; "
           "third-party sources and keys travel through the roles", patterns=("/etc/apt",))
SUDOERS = Rule("sudoers", "sudoers travel through the roles (validated on the target)",
               patterns=("/etc/sudoers", "/etc/sudoers.d"))
ACCOUNTS = Rule("accounts", "account databases: users and groups are created by the roles",
                patterns=("/etc/passwd", "/etc/passwd-", "/etc/group", "/etc/group-",
                          "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
                          "/etc/subuid", "/etc/subuid-", "/etc/subgid", "/etc/subgid-",
                          "/etc/security/opasswd", "/etc/.pwd.lock"))
BOOT = Rule("target-boot", "the target's kernel, initramfs and boot loader settings",
            patterns=("/etc/default/grub", "/etc/initramfs-tools", "/etc/kernel",
                      "/etc/modules"))
PER_INSTALL = Rule("per-install", "made by each installation of its package (keys, "
                   "maintenance passwords, PAM profiles, caches)",
                   patterns=("/etc/mysql/debian.cnf", "/etc/ssl/private/ssl-cert-snakeoil.key",
                             "/etc/ssl/certs/ssl-cert-snakeoil.pem", "/etc/pam.d/common-*",
                             "/etc/python3/debian_config", "/etc/ld.so.cache",
                             "/etc/postgresql-common/root.crt"))
OPERATOR = Rule("operator-access", "root's SSH keys on the target are the operator's way in",
                patterns=("/root/.ssh",))
ENABLE_STATE = Rule("enable-state", "symlinks that enable units and init scripts: the "
                    "services role enables what ran on the source",
                    patterns=("/etc/systemd/system/*.wants/*", "/etc/systemd/system/*.requires/*",
                              "/etc/rc?.d/*", "/etc/runit/runsvdir/*"))
OTHER_RELEASE = Rule("other-release", "configuration of a version the target's release does "
                     "not have (see the warnings)")
NOT_CONFIG = Rule("not-selected", "under /etc but neither a changed conffile nor unowned "
                  "(a snapshot chosen by inclusion)")

RULES = (IDENTITY, APT, SUDOERS, ACCOUNTS, BOOT, PER_INSTALL, OPERATOR)
_REGEX: dict[str, re.Pattern[str] | None] = {r.name: tree_regex(r.patterns) for r in RULES}
_ENABLE = re.compile("|".join(fnmatch.translate(p) for p in ENABLE_STATE.patterns))


def _expand(patterns: Iterable[str]) -> tuple[str, ...]:
    return tuple(q for p in patterns for q in (p, p + "/*"))


# fnmatch patterns (each tree and what is under it), for verify
ETC_DENY = _expand(p for r in RULES if r is not OPERATOR for p in r.patterns)
DATA_DENY = _expand(OPERATOR.patterns)
# Directories whose entries are restored exactly (extras the packages created go away).
MIRRORED = ("/etc/nginx/sites-enabled", "/etc/apache2/sites-enabled")
# Symlinks in these directories are configuration even though no package list names them.
LINK_DIRS = ("/etc/nginx/sites-enabled", "/etc/apache2/sites-enabled",
             "/etc/apache2/mods-enabled", "/etc/apache2/conf-enabled", "/etc/php/*/*/conf.d",
             "/etc/letsencrypt/live/*")


def denied(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def denying_rule(path: str) -> Rule | None:
    """The plan rule that keeps ``path`` off the target, if any."""
    for rule in RULES:
        regex = _REGEX[rule.name]
        if regex is not None and regex.match(path):
            return rule
    return None


def config_paths(changed: Iterable[str], unowned: Iterable[str]) -> list[str]:
    """The /etc files to carry over: changed conffiles and unowned files (for a snapshot
    chosen by exclusion: every /etc file it holds), minus the plan rules'."""
    return sorted({p for p in (*changed, *unowned) if p.startswith("/etc/")
                   and denying_rule(p) is None})


def data_roots(snapshot_roots: Iterable[str]) -> list[str]:
    return sorted(r for r in snapshot_roots if r != "/etc" and not r.startswith("/etc/"))


def file_selector(config: Iterable[str], roots: Iterable[str], exclusion: bool = False,
                  other_release: Iterable[str] = ()) -> Callable[[FileEntry], bool]:
    """Return a predicate choosing the manifest entries a rebuild restores. ``exclusion``:
    the snapshot was chosen by exclusion (everything in it moves but what a plan rule keeps
    off the target, and /etc files not in ``config``, which the plan dropped).
    ``other_release``: directories of versions the target's release does not have
    (/etc/postgresql/13 for a PostgreSQL 15 target): nothing under them is restored, not even
    an empty directory (postgresql-common would take it for a cluster)."""
    decide = _decider(config, roots, exclusion, other_release)
    return lambda entry: decide(entry) is None


def plan_selector(plan: RebuildPlan) -> Callable[[FileEntry], bool]:
    """The entries of the plan's snapshot that its rebuild restores."""
    return file_selector(plan.config_files, plan.data_roots, plan.selection == "exclusion",
                         plan.other_release)


def _decider(config: Iterable[str], roots: Iterable[str], exclusion: bool,
             other_release: Iterable[str] = ()) -> Callable[[FileEntry], Rule | None]:
    wanted = set(config)
    other = tuple(d.rstrip("/") for d in other_release)
    other_prefixes = tuple(d + "/" for d in other)
    prefixes = tuple(r.rstrip("/") + "/" for r in roots)
    exact_roots = {r.rstrip("/") for r in roots}

    def decide(entry: FileEntry) -> Rule | None:
        path = entry.path
        rule = denying_rule(path)
        if rule is not None:
            return rule
        if other and (path in other or path.startswith(other_prefixes)):
            return OTHER_RELEASE
        if path in exact_roots or path.startswith(prefixes) or path in wanted:
            return None
        if exclusion:
            if entry.kind == "symlink" and _ENABLE.match(path):
                return ENABLE_STATE
            is_config = path.startswith("/etc/") and entry.kind == "file"
            return OTHER_RELEASE if is_config else None
        if entry.kind == "symlink":
            parent = path.rsplit("/", 1)[0]
            if any(fnmatch.fnmatchcase(parent, d) for d in LINK_DIRS):
                return None
        return NOT_CONFIG

    return decide


def plan_totals(entries: Iterable[FileEntry], config: Iterable[str], roots: Iterable[str],
                exclusion: bool, other_release: Iterable[str] = ()) -> tuple[RuleTotal, ...]:
    """Counts of the snapshot's entries each plan rule keeps off the target."""
    decide = _decider(config, roots, exclusion, other_release)
    tally = Tally()
    for entry in entries:
        rule = decide(entry)
        if rule is not None:
            tally.add(rule, entry.path, entry.kind, entry.size)
    return tally.totals(stage="plan")
