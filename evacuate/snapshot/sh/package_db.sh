#!/bin/sh
# package-db: what the package database says about itself, for the snapshot (evacuate/
# snapshot/package_modes.py parses it). Three parts, each after its marker line:
#   times  one line per dpkg file list: its mtime, its ctime (find's %T@ and %C@) and its
#          name; dpkg rewrites a package's .list on every install and upgrade
#   lists  every .list's lines, each list after a line "@@EVAC-PKG@@<its path>"
#   swaps  /proc/swaps without its header
# Read-only; a host without dpkg prints the markers alone.
d=/var/lib/dpkg/info
echo @@EVAC-TIMES@@
[ -d "$d" ] && find "$d" -maxdepth 1 -name '*.list' -printf '%T@ %C@ %f\n' 2>/dev/null
echo @@EVAC-LISTS@@
set -- "$d"/*.list
[ -f "$1" ] && awk 'FNR == 1 { print "@@EVAC-PKG@@" FILENAME } 1' "$@" 2>/dev/null
echo @@EVAC-SWAPS@@
tail -n +2 /proc/swaps 2>/dev/null
exit 0
