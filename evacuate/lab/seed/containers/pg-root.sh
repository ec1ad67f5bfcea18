#!/bin/sh
# pg-root.sh ROOT: copy the host's PostgreSQL 15 server and client programs, their data
# files and every library they load into ROOT (a busybox root): the lab's database
# container image, built without a registry.
set -eu
root=$1
copy() {  # copy PATH...: each file at its own path under $root (symlinks as they are)
  for f in "$@"; do cp -a --parents "$f" "$root"; done
}
dpkg -L postgresql-15 postgresql-client-15 libpq5 | while IFS= read -r f; do
  case $f in
    /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*|*/bitcode/*|*/bitcode|*llvmjit*) continue ;;
  esac
  if [ -L "$f" ] || [ -f "$f" ]; then copy "$f"; fi
done
for f in "$root"/usr/lib/postgresql/15/bin/* "$root"/usr/lib/postgresql/15/lib/*.so; do
  ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | sort -u | while IFS= read -r lib; do
  cp -L --parents "$lib" "$root"
done
for zone in /usr/share/zoneinfo/UTC /usr/share/zoneinfo/Etc/UTC; do
  if [ -e "$zone" ]; then cp -L --parents "$zone" "$root"; fi
done
