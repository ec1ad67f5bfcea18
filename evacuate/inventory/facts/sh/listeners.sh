# Fact family listeners: see evacuate/inventory/facts/listeners.py.
evac_has ss || exit 0
evac_ss=$(ss -Htlnpu 2>/dev/null) || evac_ss=$(ss -tlnpu | tail -n +2)
evac_part ss
printf '%s\n' "$evac_ss"
evac_part pids
evac_pids=$(printf '%s\n' "$evac_ss" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un)
evac_exes=
for pid in $evac_pids; do
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null | sed 's/ (deleted)$//')
  [ -n "$exe" ] && evac_exes="$evac_exes $exe ${exe#/usr}"
done
# one package query for every executable (dpkg -S costs ~50 ms a call)
evac_owners=
if [ -n "$evac_exes" ] && evac_has dpkg-query; then
  # shellcheck disable=SC2086
  evac_owners=$(dpkg -S $evac_exes 2>/dev/null | grep -v '^diversion')
fi
for pid in $evac_pids; do
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null | sed 's/ (deleted)$//')
  cg=$(grep -m1 -E '^0::|name=systemd:' "/proc/$pid/cgroup" 2>/dev/null | cut -d: -f3-)
  pkg=
  if [ -n "$exe" ]; then
    if [ -n "$evac_owners" ]; then
      # usrmerge: dpkg may know the file under its /bin or /sbin name
      pkg=$(printf '%s\n' "$evac_owners" | grep -F -e ": $exe" -e ": ${exe#/usr}" \
            | awk -v a="$exe" -v b="${exe#/usr}" -F': ' '$2 == a || $2 == b {print $1; exit}' \
            | cut -d, -f1 | cut -d: -f1)
    elif evac_has rpm; then
      pkg=$(rpm -qf --qf '%{NAME}\n' "$exe" 2>/dev/null | head -n1)
    elif evac_has apk; then
      pkg=$(apk info -W "$exe" 2>/dev/null | sed -n 's/.* is owned by //p' | head -n1)
    fi
  fi
  printf 'pid=%s\texe=%s\tcgroup=%s\tpackage=%s\n' "$pid" "$exe" "$cg" "$pkg"
done
:
