# Fact family hardware: see evacuate/inventory/facts/hardware.py.
evac_part cpuinfo
grep -m1 '^model name' /proc/cpuinfo 2>/dev/null
printf 'cpus=%s\n' "$(getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo)"
evac_part meminfo
grep -E '^(MemTotal|SwapTotal):' /proc/meminfo 2>/dev/null
evac_part lsblk
if evac_has lsblk; then lsblk -b -P -o NAME,TYPE,SIZE,FSTYPE,MOUNTPOINT 2>/dev/null; fi
evac_part mounts
cat /proc/self/mounts 2>/dev/null
evac_part df
# -l: remote filesystems (a dead NFS server) would hang df.
if evac_has timeout; then timeout 15 df -P -k -l 2>/dev/null; else df -P -k -l 2>/dev/null; fi
evac_part fstab
cat /etc/fstab 2>/dev/null
:
