# Fact family sqlite: SQLite databases, known by what the file says (its 16-byte header
# "SQLite format 3" and a NUL), not by its name: the regular files of the state trees
# (@ROOTS@, pruning @PRUNE@) and the files running processes hold open, of a size that is
# a whole number of 512-byte pages; each with its size, owner, group and mode. First the
# tool the host has for an online backup: sqlite3, python3 (its sqlite3 module) or none.
if evac_has sqlite3; then
  echo "tool|sqlite3 $(sqlite3 --version 2>/dev/null | cut -d ' ' -f 1)"
elif evac_has python3 && v=$(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)' 2>/dev/null); then
  echo "tool|python3 $v"
else
  echo "tool|copy"
fi
find / -maxdepth 0 -printf '' >/dev/null 2>&1 || exit 0  # needs GNU find's -printf
header="53 51 4c 69 74 65 20 66 6f 72 6d 61 74 20 33 00"
pruned="@PRUNE@"
prune=""
for p in $pruned; do prune="$prune -path $p -prune -o"; done
candidates=$({
  # shellcheck disable=SC2086  # the roots are globs and the prunes options, split on purpose
  find @ROOTS@ -xdev $prune -type f -size +511c -printf '%s %p\n' 2>/dev/null
  # one stat for every open file (one a file cost ~2 ms, 0.3 s for 200 open files)
  find /proc/[0-9]*/fd -type l -printf '%l\n' 2>/dev/null | sort -u | while IFS= read -r f; do
    case $f in
      /proc/* | /sys/* | /dev/* | /run/* | /tmp/* | /var/tmp/* | *' (deleted)') continue ;;
      /*) printf '%s\n' "$f" ;;
    esac
  done | tr '\n' '\0' | xargs -0 stat -c '%F|%s %n' -- 2>/dev/null |
    sed -n 's/^regular\( empty\)\{0,1\} file|//p'
} | awk '$1 % 512 == 0 && $1 > 0 { sub(/^[0-9]+ /, ""); print }' | sort -u)
[ -n "$candidates" ] || exit 0
# The first 16 bytes of every candidate in one head and one od, a line each and in order
# (one od a file cost ~3 ms); a line is trusted to be its file's only when every candidate
# gave its 16 bytes (one unreadable or cut short meanwhile would shift the lines), else
# every candidate goes on. Each one that goes on is then read alone, as before.
{
  printf '%s\n' "$candidates"
  echo @@heads@@
  printf '%s\n' "$candidates" | tr '\n' '\0' | xargs -0 -r head -q -c 16 -- 2>/dev/null |
    od -An -v -tx1 -w16
} | awk -v header="$header" 'BEGIN { ok = 1 }
  $0 == "@@heads@@" { heads = 1; next }
  !heads { name[++n] = $0; next }
  { h = $0; gsub(/^ +| +$/, "", h); head[++m] = h; if (length(h) != 47) ok = 0 }
  END { if (m != n) ok = 0
        for (i = 1; i <= n; i++) if (!ok || head[i] == header) print name[i] }' |
  while IFS= read -r f; do
    got=$(od -An -tx1 -N16 -- "$f" 2>/dev/null | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
    [ "$got" = "$header" ] && stat -c 'db|%s|%U|%G|%a|%n' -- "$f" 2>/dev/null
  done
:
