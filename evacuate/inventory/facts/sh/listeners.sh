# Fact family listeners: see evacuate/inventory/facts/listeners.py.
evac_has ss || exit 0
evac_ss=$(ss -Htlnpu 2>/dev/null) || evac_ss=$(ss -tlnpu | tail -n +2)
evac_part ss
printf '%s\n' "$evac_ss"
evac_part pids
evac_pids=$(printf '%s\n' "$evac_ss" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un)
# Each pid's executable (one readlink each), then one package query for every executable
# (dpkg -S costs ~50 ms a call), one grep for every pid's cgroup and one awk that joins them
# (a pipeline of five commands a pid cost ~15 ms).
tab=$(printf '\t')
evac_dpkg=
evac_has dpkg-query && evac_dpkg=1
evac_rows=
evac_exes=
set --
for pid in $evac_pids; do
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
  exe=${exe% (deleted)}
  pkg=
  if [ -n "$exe" ] && [ -z "$evac_dpkg" ]; then
    if evac_has rpm; then
      pkg=$(rpm -qf --qf '%{NAME}\n' "$exe" 2>/dev/null | head -n1)
    elif evac_has apk; then
      pkg=$(apk info -W "$exe" 2>/dev/null | sed -n 's/.* is owned by //p' | head -n1)
    fi
  fi
  evac_rows="$evac_rows$pid$tab$exe$tab$pkg
"
  [ -n "$exe" ] && evac_exes="$evac_exes $exe ${exe#/usr}"
  set -- "$@" "/proc/$pid/cgroup"
done
[ $# -gt 0 ] || exit 0
evac_owners=
if [ -n "$evac_exes" ] && [ -n "$evac_dpkg" ]; then
  # shellcheck disable=SC2086
  evac_owners=$(dpkg -S $evac_exes 2>/dev/null | grep -v '^diversion')
fi
{
  [ -n "$evac_owners" ] && printf '%s\n' "$evac_owners" | sed 's/^/O /'
  grep -H -m1 -E '^0::|name=systemd:' "$@" 2>/dev/null | sed 's/^/C /'
  printf '%s' "$evac_rows" | sed 's/^/P /'
} | awk -v dpkg="$evac_dpkg" '
  /^O / { line = substr($0, 3); i = index(line, ": ")
          if (i) { n++; path[n] = substr(line, i + 2); owner[n] = substr(line, 1, i - 1) }
          next }
  # C /proc/PID/cgroup:0::/system.slice/x.service (or N:name=systemd:/...): the path
  /^C / { line = substr($0, 9); j = index(line, "/cgroup:"); pid = substr(line, 1, j - 1)
          rest = substr(line, j + 8); rest = substr(rest, index(rest, ":") + 1)
          cg[pid] = substr(rest, index(rest, ":") + 1); next }
  /^P / { split(substr($0, 3), f, "\t"); pid = f[1]; exe = f[2]; pkg = f[3]
          if (dpkg && exe != "") {
            # usrmerge: dpkg may know the file under its /bin or /sbin name
            short = substr(exe, 1, 4) == "/usr" ? substr(exe, 5) : exe
            pkg = ""
            for (i = 1; i <= n; i++) if (path[i] == exe || path[i] == short) { pkg = owner[i]; break }
            sub(/,.*/, "", pkg); sub(/:.*/, "", pkg)
          }
          printf "pid=%s\texe=%s\tcgroup=%s\tpackage=%s\n", pid, exe, cg[pid], pkg }'
:
