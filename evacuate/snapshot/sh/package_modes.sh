#!/bin/sh
# package-modes MODE USER GROUP PATH: give PATH (a package's file on the target: the copy
# the target's own package installed) the source's owner and mode. Run by `xargs -0 -n 4`
# as sh -c "<this file>" package-modes MODE USER GROUP PATH (evacuate/snapshot/
# package_modes.py). What is not a regular file on the target (its package there does not
# install it) is named on stdout as "absent<TAB>PATH" and left alone; a chown or chmod that
# fails is named as "failed<TAB>PATH". Always exits 0, so xargs goes on.
mode=$1 user=$2 group=$3 path=$4
if [ ! -f "$path" ] || [ -L "$path" ]; then
  printf 'absent\t%s\n' "$path"
  exit 0
fi
# chown first: it clears the setuid and setgid bits that chmod then sets
if ! { chown -- "$user:$group" "$path" && chmod -- "$mode" "$path"; } 2>/dev/null; then
  printf 'failed\t%s\n' "$path"
fi
exit 0
