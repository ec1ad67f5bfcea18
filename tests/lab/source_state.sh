#!/bin/sh
# The state of a host's whole file system, for a before/after comparison (run as root,
# read-only: find and sha256sum only). Arguments: the directories set aside (neither they
# nor anything in them is listed).
#
# Every entry on a real file system (virtual ones pruned by type: proc, sysfs, devtmpfs,
# devpts, tmpfs, cgroup, ...) as three NUL-terminated fields:
#     TYPE|MODE|UID|GID|SIZE|MTIME|CTIME   PATH   LINK-TARGET
# then a NUL-terminated "--sha256--" and, for each regular file, "HEX  PATH" (NUL-terminated).
set -eu

virtual="proc sysfs devtmpfs devpts tmpfs ramfs cgroup cgroup2 mqueue securityfs debugfs
tracefs pstore bpf autofs hugetlbfs configfs fusectl binfmt_misc efivarfs nsfs rpc_pipefs"
prune=""
for type in $virtual; do
    prune="$prune -fstype $type -o"
done
for path in "$@"; do
    prune="$prune -path ${path%/} -o -path ${path%/}/* -o"
done

set -f  # the set-aside patterns go to find as they are, never expanded by this shell
# shellcheck disable=SC2086  # $prune is a list of find arguments
find / \( $prune -false \) -prune -o -printf '%y|%m|%U|%G|%s|%T@|%C@\0%p\0%l\0'
printf -- '--sha256--\0'
# shellcheck disable=SC2086
# A file that vanishes between the two passes has no hash (its entry in the first says so).
find / \( $prune -false \) -prune -o -type f -print0 | xargs -0 -r sha256sum -z || true
