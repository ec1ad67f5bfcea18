# Fact family users: accounts, groups, the account state from /etc/shadow (never the
# hash: awk prints whether one is set and whether the account is locked, then the aging
# fields), authorized_keys, sudoers, and the lines of the packages' maintainer scripts and
# sysusers.d files that create accounts (which accounts come from packages).
evac_part login-defs
grep -E '^[[:space:]]*(SYS_)?(UID|GID)_(MIN|MAX)[[:space:]]' /etc/login.defs 2>/dev/null
evac_part passwd
getent passwd 2>/dev/null || cat /etc/passwd
evac_part group
getent group 2>/dev/null || cat /etc/group
evac_part shadow
# name, a usable hash set (0|1), locked (! or * first: passwd -S says L), then lastchg,
# min, max, warn, inactive and expire ("-" for an empty field)
[ -r /etc/shadow ] && awk -F: '{
  printf "%s %d %d", $1, ($2 != "" && $2 !~ /^[!*]/), ($2 ~ /^[!*]/)
  for (i = 3; i <= 8; i++) printf " %s", ($i == "" ? "-" : $i)
  printf "\n" }' /etc/shadow
getent passwd 2>/dev/null | while IFS=: read -r name _ _ _ _ home _; do
  for f in "$home/.ssh/authorized_keys" "$home/.ssh/authorized_keys2"; do
    [ -f "$f" ] || continue
    evac_part keys "$name"
    cat "$f"
  done
done
for f in /etc/sudoers /etc/sudoers.d/*; do
  [ -f "$f" ] || continue
  evac_part sudoers "$f"
  cat "$f"
done
evac_part creators
# one awk for every maintainer script (one a script cost ~3 ms, 0.3 s for 100 packages)
set --
for f in /var/lib/dpkg/info/*.preinst /var/lib/dpkg/info/*.postinst; do
  [ -f "$f" ] && set -- "$@" "$f"
done
# a command continued over several lines (trailing backslash) is joined into one
[ $# -gt 0 ] && awk 'FNR == 1 { p = FILENAME; sub(/.*\//, "", p); sub(/\.[^.]*$/, "", p)
    sub(/:.*/, "", p); buf = ""; cont = 0 }
  { buf = cont ? buf " " $0 : $0; cont = sub(/\\[[:space:]]*$/, "", buf) }
  !cont && buf ~ /(adduser|useradd|addgroup|groupadd)([[:space:]]|$)/ && buf !~ /^[[:space:]]*#/ {
    print p, buf }' "$@" 2>/dev/null
set --
for f in /usr/lib/sysusers.d/*.conf; do
  [ -f "$f" ] && set -- "$@" "$f"
done
# one package query for every file (dpkg -S costs ~50 ms a call)
owners=
[ $# -gt 0 ] && owners=$(dpkg -S "$@" 2>/dev/null | grep -v '^diversion')
for f; do
  p=$(printf '%s\n' "$owners" | awk -v f="$f" 'index($0, ": " f) && substr($0, index($0, ": " f) + 2) == f {
    sub(/:.*/, ""); print; exit }')
  grep -E '^[ugm][[:space:]]' "$f" 2>/dev/null | sed "s|^|${p:-?} sysusers |"
done
:
