#!/bin/sh
# container-exec CLI CONTAINER USER STDIN PROGRAM [ARG...]: run PROGRAM in the running
# CONTAINER's namespaces (mount, UTS, IPC, network, PID; its user namespace when it has one
# of its own) as USER (a name in the container's /etc/passwd, uid or uid:gid; "" for root),
# with the container's environment and the user's home, the way `CLI exec` would, but
# without the engine: Podman records every exec session in its state database and the
# container's userdata, which would change the source; this only reads (`CLI container
# inspect` for the container's process, /proc for its users and environment). STDIN: 1
# passes standard input on, 0 gives /dev/null (a script sent on the shell's stdin must not
# be read by PROGRAM). Exit 125 when the container is not running or has no such user.
set -eu
cli=$1 name=$2 user=$3 stdin=$4
shift 4
pid=$(TMPDIR=/dev/shm; export TMPDIR; "$cli" container inspect --format '{{.State.Pid}}' "$name")
case $pid in
  '' | 0 | *[!0-9]*) echo "container-exec: $name is not running" >&2; exit 125 ;;
esac
uid=0 gid=0 home=/root
if [ -n "$user" ]; then
  case $user in
    *[!0-9:]*)
      entry=$(awk -F: -v n="$user" '$1 == n { print $3 ":" $4 ":" $6; exit }' \
        "/proc/$pid/root/etc/passwd")
      if [ -z "$entry" ]; then
        echo "container-exec: $name has no user $user" >&2
        exit 125
      fi
      uid=${entry%%:*} rest=${entry#*:}
      gid=${rest%%:*} home=${rest#*:} ;;
    *:*) uid=${user%%:*} gid=${user#*:} home=/ ;;
    *) uid=$user gid=$user home=/ ;;
  esac
fi
nsenter=$(command -v nsenter)
if [ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/self/ns/user)" ]; then
  set -- "$nsenter" --target "$pid" --mount --uts --ipc --net --pid \
    --setuid "$uid" --setgid "$gid" -- "$@"
else
  set -- "$nsenter" --target "$pid" --mount --uts --ipc --net --pid --user \
    --setuid "$uid" --setgid "$gid" -- "$@"
fi
set -- "HOME=$home" "$@"
environment=$(tr '\0' '\n' < "/proc/$pid/environ")
while IFS= read -r entry; do
  case $entry in
    HOME=*) ;;
    [A-Za-z_]*=*) set -- "$entry" "$@" ;;
  esac
done <<EOF_ENV
$environment
EOF_ENV
[ "$stdin" = 1 ] || exec </dev/null
exec env -i "$@"
