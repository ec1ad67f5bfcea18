"""Fact family ``hardware``: CPU, memory, block devices, mounts with usage, fstab."""

from __future__ import annotations

import shlex

from evacuate.inventory.facts.base import Fact, first_part, snippet, split_parts, to_int
from evacuate.inventory.model import BlockDevice, FstabEntry, Hardware, Mount

# Kernel and runtime filesystems that say nothing about what must be rebuilt.
PSEUDO_FS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "securityfs",
    "pstore", "bpf", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs",
    "autofs", "binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs", "ramfs", "overlay",
    "squashfs", "fuse.lxcfs", "fuse.portal", "fuse.gvfsd-fuse",
})


def _unescape_mount(field: str) -> str:
    """/proc/mounts escapes space, tab, newline and backslash as octal."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _df_usage(text: str) -> dict[str, tuple[int, int]]:
    usage: dict[str, tuple[int, int]] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 6:
            continue
        size, used = to_int(fields[1]), to_int(fields[2])
        if size is not None and used is not None:
            usage[" ".join(fields[5:])] = (size * 1024, used * 1024)
    return usage


def _lsblk(text: str) -> tuple[BlockDevice, ...]:
    devices = []
    for line in text.splitlines():
        try:
            pairs = dict(p.split("=", 1) for p in shlex.split(line))
        except ValueError:
            continue
        if "NAME" not in pairs:
            continue
        devices.append(BlockDevice(
            name=pairs["NAME"], type=pairs.get("TYPE", ""),
            size_bytes=to_int(pairs.get("SIZE"), 0) or 0,
            fstype=pairs.get("FSTYPE", ""), mountpoint=pairs.get("MOUNTPOINT", ""),
        ))
    return tuple(devices)


def _mounts(text: str, usage: dict[str, tuple[int, int]]) -> tuple[Mount, ...]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] in PSEUDO_FS:
            continue
        target = _unescape_mount(fields[1])
        if target.startswith(("/proc/", "/sys/", "/dev/", "/run/")):
            continue
        size, used = usage.get(target, (None, None))
        mounts.append(Mount(source=_unescape_mount(fields[0]), target=target, fstype=fields[2],
                            options=fields[3], size_bytes=size, used_bytes=used))
    return tuple(mounts)


def _fstab(text: str) -> tuple[FstabEntry, ...]:
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[0].startswith("#"):
            continue
        entries.append(FstabEntry(
            source=fields[0], target=_unescape_mount(fields[1]), fstype=fields[2],
            options=fields[3] if len(fields) > 3 else "defaults",
            dump=to_int(fields[4] if len(fields) > 4 else None, 0) or 0,
            passno=to_int(fields[5] if len(fields) > 5 else None, 0) or 0,
        ))
    return tuple(entries)


def parse(text: str) -> Hardware:
    """Parse the ``hardware`` section."""
    parts = split_parts(text)
    cpu_model, cpus = "", 0
    for line in first_part(parts, "cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu_model = line.partition(":")[2].strip()
        elif line.startswith("cpus="):
            cpus = to_int(line[5:], 0) or 0
    memory = swap = 0
    for line in first_part(parts, "meminfo").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "MemTotal:":
            memory = (to_int(fields[1], 0) or 0) * 1024
        elif len(fields) >= 2 and fields[0] == "SwapTotal:":
            swap = (to_int(fields[1], 0) or 0) * 1024
    return Hardware(
        cpu_model=cpu_model, cpu_count=cpus, memory_bytes=memory, swap_bytes=swap,
        block_devices=_lsblk(first_part(parts, "lsblk")),
        mounts=_mounts(first_part(parts, "mounts"), _df_usage(first_part(parts, "df"))),
        fstab=_fstab(first_part(parts, "fstab")),
    )


FACT = Fact(name="hardware", script=snippet("hardware"), parse=parse, default=Hardware, timeout=30)
