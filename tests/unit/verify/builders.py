"""A small lab-source-like inventory and snapshot manifest for the verification tests."""

from __future__ import annotations

from dataclasses import replace

from evacuate.inventory.model import (
    Certificate,
    ChangedConffile,
    CronEntry,
    Crontab,
    Group,
    HostInventory,
    Listener,
    OsInfo,
    Package,
    Service,
    SudoersFile,
    Timer,
    UnownedFile,
    UnownedFiles,
    User,
    VHost,
)
from evacuate.inventory.serialize import to_json
from evacuate.snapshot.manifest import DumpEntry, FileEntry, SnapshotManifest, Totals
from evacuate.snapshot.store import BlobRef

ALICE_KEYS = ("ssh-ed25519 AAAAC3Nzalice1 alice@workstation",
              "ssh-ed25519 AAAAC3Nzalice2 alice@laptop")


def source_inventory() -> HostInventory:
    return HostInventory(
        host="web1", collected_at="2026-11-23T17:00:00Z",
        os=OsInfo(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)"),
        packages=(Package("nginx", "1.22.1-9"), Package("postgresql", "15+248"),
                  Package("libc6", "2.36-9", manual=False)),
        services=(
            Service("nginx.service", "enabled", "active"),
            Service("notes.service", "enabled", "active", locally_written=True),
            Service("getty@tty1.service", "enabled", "active"),
            Service("systemd-journald.service", "static", "active"),
            Service("dbus.service", "static", "active"),
            Service("getty@.service", "enabled", ""),
        ),
        timers=(Timer("notes-cleanup.timer", enabled_state="enabled", active_state="active",
                      locally_written=True),),
        listeners=(Listener("tcp", "0.0.0.0", 80, unit="nginx.service"),
                   Listener("tcp", "::", 80, unit="nginx.service"),
                   Listener("tcp", "0.0.0.0", 8080, unit="notes.service"),
                   Listener("tcp", "127.0.0.1", 5432, unit="postgresql@15-main.service"),
                   Listener("udp", "0.0.0.0", 40000, unit="rpc-statd.service")),
        users=(User("root", 0, 0, shell="/bin/bash", groups=("root",), system=True),
               User("postgres", 102, 106, shell="/bin/bash", groups=("postgres",), system=True),
               User("alice", 1001, 1001, shell="/bin/bash", groups=("alice", "sudo", "webdev"),
                    authorized_keys=ALICE_KEYS),
               User("bob", 1002, 1002, shell="/bin/bash", groups=("bob", "webdev"))),
        groups=(Group("webdev", 1500, ("alice", "bob")), Group("sudo", 27, ("alice",), True),
                Group("postgres", 106, system=True)),
        sudoers=(SudoersFile("/etc/sudoers.d/alice-nginx",
                             ("alice ALL=(ALL:ALL) NOPASSWD: /usr/bin/systemctl reload nginx",)),),
        crontabs=(Crontab("/var/spool/cron/crontabs/alice", "alice",
                          entries=(CronEntry("*/30 * * * *", "/home/alice/bin/sync.sh",
                                             "alice"),)),
                  Crontab("/etc/cron.d/notes-report", environment=(("SHELL", "/bin/sh"),),
                          entries=(CronEntry("0 6 * * *", "/opt/notes/report", "notes"),))),
        changed_conffiles=(ChangedConffile("/etc/nginx/nginx.conf", "nginx-common", "a", "b"),),
        unowned_files=UnownedFiles(("/etc",), (UnownedFile("/etc/hostname"),
                                               UnownedFile("/etc/notes.ini"))),
        web=(VHost("nginx", "/etc/nginx/sites-enabled/www", ("www.example.test",),
                   ("80", "[::]:80"), "/var/www/www"),
             VHost("nginx", "/etc/nginx/sites-enabled/shop", ("shop.example.test", "_"),
                   ("443 ssl",), "/var/www/shop", tls_cert="/etc/ssl/certs/shop.crt")),
        certificates=(Certificate("/etc/ssl/certs/shop.crt", "O=Example,CN=shop.example.test",
                                  sans=("DNS:shop.example.test",)),),
    )


def blob(sha: str, size: int = 10) -> BlobRef:
    return BlobRef(sha256=sha * 64 if len(sha) == 1 else sha, size=size, stored_size=size)


def entry(path: str, kind: str = "file", mode: int = 0o644, user: str = "root",
          group: str = "root", size: int = 10, sha: str | None = "a", **more: object) -> FileEntry:
    return FileEntry(path=path, kind=kind, mode=mode, uid=0, gid=0, user=user, group=group,
                     mtime="0", size=size if kind == "file" else 0,
                     blob=blob(sha, size) if kind == "file" and sha else None, **more)  # type: ignore[arg-type]


def manifest(inventory: HostInventory | None = None,
             files: tuple[FileEntry, ...] | None = None) -> SnapshotManifest:
    files = files if files is not None else (
        entry("/etc/nginx/nginx.conf", sha="1"), entry("/etc/notes.ini", sha="2"),
        entry("/etc/hostname", sha="3"),
        entry("/srv", "dir", 0o755), entry("/srv/data", "dir", 0o755),
        entry("/srv/data/a.txt", sha="4", user="alice", group="alice"),
        entry("/srv/data/b.txt", sha="5", mode=0o600),
        entry("/srv/data/link", "symlink", 0o777, link_target="a.txt"),
        entry("/srv/data/hard", sha=None, hardlink_to="/srv/data/a.txt"),
    )
    dump = DumpEntry("postgresql", "shop", "custom", blob("d"),
                     tables={"public.orders": 5000, "public.customers": 2000})
    globals_dump = DumpEntry("postgresql", "*globals*", "sql", blob("e"), secret=True)
    return SnapshotManifest(
        id="20261123T170000Z-abcd", host="web1", created="2026-11-23T17:00:00Z",
        tool_version="0", roots=("/etc", "/srv"), excludes=(), files=files,
        dumps=(globals_dump, dump), inventory=to_json(inventory or source_inventory()),
        totals=Totals())


def with_user(inventory: HostInventory, name: str, **changes: object) -> HostInventory:
    users = tuple(replace(u, **changes) if u.name == name else u  # type: ignore[arg-type]
                  for u in inventory.users)
    return replace(inventory, users=users)
