# Fact family unowned: regular files that no package owns, anywhere on the local disk file
# systems (the root and every mount of a local disk type that is not inside a virtual one).
# The package database's file list is streamed first, then find's; one awk pass prints
# the difference (capped; the total is still counted).
roots=$(awk -v local="@LOCAL_TYPES@" '
  BEGIN { n = split(local, t, " "); for (i = 1; i <= n; i++) ok[t[i]] = 1 }
  { gsub(/\\040/, " ", $2); mp[NR] = $2; ty[NR] = $3 }
  END {
    for (i = 1; i <= NR; i++) if (!(ty[i] in ok) && mp[i] != "/") bad[mp[i]] = 1
    printf "/"
    for (i = 1; i <= NR; i++) {
      if (!(ty[i] in ok) || mp[i] == "/" || mp[i] ~ / /) continue
      inside = 0
      for (b in bad) if (index(mp[i], b "/") == 1) inside = 1
      if (!inside) printf " %s", mp[i]
    }
    print ""
  }' /proc/self/mounts 2>/dev/null)
[ -n "$roots" ] || roots=/
if find / -maxdepth 0 -printf '' >/dev/null 2>&1; then evac_gnufind=1; else evac_gnufind=; fi
evac_owned() {
  if [ -d /var/lib/dpkg/info ]; then cat /var/lib/dpkg/info/*.list 2>/dev/null
  elif evac_has rpm; then rpm -qal 2>/dev/null
  elif [ -f /lib/apk/db/installed ]; then
    awk '/^F:/{d="/"substr($0,3)} /^R:/{print d"/"substr($0,3)}' /lib/apk/db/installed
  fi
}
evac_found() {
  # shellcheck disable=SC2086
  if [ -n "$evac_gnufind" ]; then
    find $roots -xdev \( @PRUNE@ \) -prune -o -type f -printf '%s\t%p\n' 2>/dev/null
  else
    find $roots -xdev \( @PRUNE@ \) -prune -o -type f -print 2>/dev/null \
      | awk '{print "-\t" $0}'
  fi
}
evac_part roots "$roots"
{ evac_owned; echo '@@EVAC-SEP@@'; evac_found; } \
  | awk -F'\t' -v max=@MAX_FILES@ '
      $0 == "@@EVAC-SEP@@" { sep = 1; next }
      !sep { own[$0] = 1; if ($0 ~ /^\/(s?bin|lib|lib32|lib64|libx32)\//) own["/usr" $0] = 1; next }
      !($2 in own) { n++; if (n <= max) print }
      END { print "total=" n+0 }'
