"""Which of the snapshot's files a rebuild restores onto the target, and which it must not.

Data trees are restored whole. Under /etc only what the admin changed (changed conffiles
and files no package owns) is restored, minus the files that make up the *target's*
identity and plumbing (its fstab, network, host keys, apt sources, accounts databases),
which the roles manage or which must stay as the hoster set them up.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from evacuate.snapshot.manifest import FileEntry

# Never copied from the source onto the target.
ETC_DENY = (
    "/etc/fstab", "/etc/crypttab", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
    "/etc/machine-id", "/etc/mailname", "/etc/apt/*", "/etc/network/*", "/etc/netplan/*",
    "/etc/systemd/network/*", "/etc/ssh/ssh_host_*", "/etc/passwd", "/etc/passwd-",
    "/etc/group", "/etc/group-", "/etc/shadow", "/etc/shadow-", "/etc/gshadow",
    "/etc/gshadow-", "/etc/subuid", "/etc/subgid", "/etc/sudoers", "/etc/sudoers.d/*",
    "/etc/mysql/debian.cnf", "/etc/ssl/private/ssl-cert-snakeoil.key",
    "/etc/ssl/certs/ssl-cert-snakeoil.pem", "/etc/security/opasswd", "/etc/pam.d/common-*",
    "/etc/timezone", "/etc/localtime", "/etc/python3/debian_config", "/etc/default/grub",
    "/etc/initramfs-tools/*", "/etc/kernel/*", "/etc/modules", "/etc/udev/*",
    "/etc/cloud/*", "/etc/ld.so.cache", "/etc/adjtime", "/etc/.pwd.lock",
    "/etc/postgresql-common/root.crt",
)
# Under these, the operator's own access to the new host is kept.
DATA_DENY = ("/root/.ssh", "/root/.ssh/*", "*/.cache/*")
# Directories whose entries are restored exactly (extras the packages created go away).
MIRRORED = ("/etc/nginx/sites-enabled", "/etc/apache2/sites-enabled")
# Symlinks in these directories are configuration even though no package list names them.
LINK_DIRS = ("/etc/nginx/sites-enabled", "/etc/apache2/sites-enabled",
             "/etc/apache2/mods-enabled", "/etc/apache2/conf-enabled", "/etc/php/*/*/conf.d",
             "/etc/letsencrypt/live/*")


def denied(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def config_paths(changed: Iterable[str], unowned: Iterable[str]) -> list[str]:
    """The /etc files to carry over: changed conffiles and unowned files, minus ETC_DENY."""
    return sorted({p for p in (*changed, *unowned) if p.startswith("/etc/")
                   and not denied(p, ETC_DENY)})


def data_roots(snapshot_roots: Iterable[str]) -> list[str]:
    return sorted(r for r in snapshot_roots if r != "/etc" and not r.startswith("/etc/"))


def file_selector(config: Iterable[str], roots: Iterable[str]):  # type: ignore[no-untyped-def]
    """Return a predicate choosing the manifest entries a rebuild restores."""
    wanted = set(config)
    prefixes = tuple(r.rstrip("/") + "/" for r in roots)
    exact_roots = {r.rstrip("/") for r in roots}

    def select(entry: FileEntry) -> bool:
        path = entry.path
        if path in exact_roots or path.startswith(prefixes):
            return not denied(path, DATA_DENY)
        if path in wanted:
            return True
        if entry.kind == "symlink":
            parent = path.rsplit("/", 1)[0]
            return any(fnmatch.fnmatchcase(parent, d) for d in LINK_DIRS)
        return False

    return select
