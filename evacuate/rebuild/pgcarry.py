"""Carry a PostgreSQL cluster's configuration into the target's newer major version.

Across releases (13 on bullseye → 15 on bookworm) the old cluster's files under
/etc/postgresql/13/ are not restored: 15 has a cluster of its own, and 13's postgresql.conf
names 13's paths and settings 15 does not know (``stats_temp_directory``). What the admin
meant is carried instead, once the new server is installed:

- ``pg_hba.conf`` and ``pg_ident.conf`` replace the new cluster's (their format is the same);
- the settings of the old postgresql.conf (and its conf.d) whose value differs from the new
  cluster's, minus the paths and names bound to the old cluster, and only those the new
  server knows (``postgres --describe-config``), go into
  ``/etc/postgresql/15/<cluster>/conf.d/evacuate-from-13.conf``.

The cluster is restarted; if it will not start, the carried files are taken back and the
cluster restarted on its own defaults, and the message says so. The source's files come from
the snapshot's blobs; nothing is read from the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from evacuate.snapshot.manifest import FileEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport

BOUND = frozenset({
    "data_directory", "hba_file", "ident_file", "external_pid_file", "cluster_name",
    "include", "include_dir", "include_if_exists", "stats_temp_directory",
})
"""Settings that name the old cluster's own paths and identity: never carried."""

STEPS = (resources.files("evacuate.rebuild") / "sh" / "pgcarry.sh").read_text(encoding="utf-8")
"""The target-side steps (backup, put, restart, undo, clean) as one sh program."""

_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=\s*|\s+)(.*)$")


def parse_settings(text: str) -> dict[str, str]:
    """The active settings of a postgresql.conf (``name = value``, later lines win), names
    lower-cased, values as written (quotes kept) without trailing comments."""
    settings: dict[str, str] = {}
    for line in text.splitlines():
        found = _LINE.match(line)
        if found is None or line.lstrip().startswith("#"):
            continue
        settings[found.group(1).lower()] = _strip_comment(found.group(2))
    return settings


def _strip_comment(value: str) -> str:
    quoted = False
    for index, char in enumerate(value):
        if char == "'":
            quoted = not quoted  # '' inside quotes toggles twice: still quoted
        elif char == "#" and not quoted:
            return value[:index].strip()
    return value.strip()


def known_settings(describe_config: str) -> frozenset[str]:
    """Names from ``postgres --describe-config`` (tab-separated, the name first)."""
    return frozenset(line.split("\t", 1)[0].lower() for line in describe_config.splitlines()
                     if line and not line.startswith("\t"))


@dataclass(frozen=True)
class Carried:
    """What carrying one cluster decided: settings to write, settings dropped as unknown to
    the new version, and the access files to copy."""

    cluster: str
    settings: dict[str, str]
    unknown: tuple[str, ...]
    access_files: dict[str, bytes]


def decide(cluster: str, old: dict[str, str], new: dict[str, str], known: frozenset[str],
           access_files: dict[str, bytes]) -> Carried:
    """Pure: the settings of ``old`` to carry onto a cluster configured as ``new``."""
    carry = {k: v for k, v in old.items()
             if k not in BOUND and k in known and new.get(k) != v}
    unknown = tuple(sorted(k for k in old if k not in BOUND and k not in known))
    return Carried(cluster, carry, unknown, access_files)


def snippet(old_version: str, carried: Carried) -> str:
    lines = [f"# Carried by evacuate from PostgreSQL {old_version}'s {carried.cluster} "
             "cluster: the settings that differed", "# from this version's defaults."]
    lines += [f"{name} = {value}" for name, value in sorted(carried.settings.items())]
    return "\n".join(lines) + "\n"


def old_clusters(manifest: SnapshotManifest, old: str) -> dict[str, dict[str, FileEntry]]:
    """``{cluster: {file name: entry}}`` for the regular files of /etc/postgresql/<old>/."""
    prefix = f"/etc/postgresql/{old}/"
    clusters: dict[str, dict[str, FileEntry]] = {}
    for entry in manifest.files:
        if entry.kind != "file" or not entry.path.startswith(prefix) or entry.blob is None:
            continue
        parts = entry.path[len(prefix):].split("/")
        if len(parts) == 2:
            clusters.setdefault(parts[0], {})[parts[1]] = entry
        elif len(parts) == 3 and parts[1] == "conf.d" and parts[2].endswith(".conf"):
            clusters.setdefault(parts[0], {})[f"conf.d/{parts[2]}"] = entry
    return clusters


def carry_postgresql(target: Transport, manifest: SnapshotManifest, blobs: BlobStore,
                     old: str, new: str) -> list[str]:
    """Carry every old cluster that has a counterpart on the target; return one message per
    cluster (what was carried, dropped, or why nothing was)."""
    messages = []
    for cluster, files in sorted(old_clusters(manifest, old).items()):
        folder = f"/etc/postgresql/{new}/{cluster}"
        have = target.run(["cat", f"{folder}/postgresql.conf"], timeout=60)
        if not have.ok:
            messages.append(f"postgresql {old} → {new}: the target has no {new}/{cluster} "
                            f"cluster; {old}'s {cluster} configuration is not carried")
            continue
        new_text = have.text
        described = target.run(["runuser", "-u", "postgres", "--",
                                f"/usr/lib/postgresql/{new}/bin/postgres", "--describe-config"],
                               timeout=60)
        if not described.ok or not described.text.strip():
            messages.append(f"postgresql {old} → {new}: could not ask {new} which settings it "
                            f"knows; {old}'s {cluster} settings are not carried")
            continue
        texts = [blobs.read_blob(blob).decode("utf-8", "replace")
                 for name, blob in sorted((n, e.blob) for n, e in files.items())
                 if blob is not None and (name == "postgresql.conf" or name.startswith("conf.d/"))]
        access = {name: blobs.read_blob(entry.blob) for name, entry in files.items()
                  if name in ("pg_hba.conf", "pg_ident.conf") and entry.blob is not None}
        new_settings = parse_settings(new_text)
        carried = decide(cluster, parse_settings("\n".join(texts)), new_settings,
                         known_settings(described.text), access)
        messages.append(_apply(target, folder, old, new, carried, "include_dir" in new_settings))
    return messages


def _steps(target: Transport, step: str, *args: str, input: bytes | None = None,
           timeout: float = 60, check: bool = True) -> bool:
    """Run one step of sh/pgcarry.sh on the target; True when it succeeded."""
    return target.run(["sh", "-c", STEPS, "pgcarry", step, *args], input=input,
                      timeout=timeout, check=check).ok


def _apply(target: Transport, folder: str, old: str, new: str, carried: Carried,
           has_conf_d: bool) -> str:
    unit = f"postgresql@{new}-{carried.cluster}.service"
    conf = f"{folder}/conf.d/evacuate-from-{old}.conf"
    names = sorted(carried.access_files)
    _steps(target, "backup", folder, *names)
    for name, content in carried.access_files.items():
        _steps(target, "put", f"{folder}/{name}", "postgres:postgres", "0640", input=content)
    settings = carried.settings if has_conf_d else {}
    if settings:
        _steps(target, "put", conf, "postgres:postgres", "0644",
               input=snippet(old, carried).encode())
    started = _steps(target, "restart", unit, timeout=180, check=False)
    # names only: a value may be a secret (ssl_passphrase_command)
    what = ", ".join([*sorted(carried.access_files),
                      *([f"{len(settings)} settings ({', '.join(sorted(settings))})"]
                        if settings else [])])
    if not started:
        _steps(target, "undo", folder, conf, *names, check=False)
        _steps(target, "restart", unit, timeout=180, check=False)
        return (f"postgresql {old} → {new}: {unit} would not start with {old}'s "
                f"{carried.cluster} configuration ({what}); it runs on {new}'s defaults: see "
                f"journalctl -u {unit} and carry the changes by hand")
    _steps(target, "clean", folder, check=False)
    message = f"postgresql {old} → {new}: carried {old}'s {carried.cluster} configuration " \
              f"into {folder}: {what or 'nothing differed'}"
    if carried.settings and not has_conf_d:
        message += f" (settings not carried: {new}'s postgresql.conf has no include_dir)"
    if carried.unknown:
        message += f"; not known to {new}, left out: {', '.join(carried.unknown)}"
    return message
