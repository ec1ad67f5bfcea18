# Fact family sqlite: SQLite databases, known by what the file says (its 16-byte header
# "SQLite format 3" and a NUL), not by its name: the regular files of the state trees
# (@ROOTS@, pruning @PRUNE@) and the files running processes hold open, of a size that is
# a whole number of 512-byte pages; each with its size, owner, group and mode. First the
# tool the host has for an online backup: sqlite3, python3 (its sqlite3 module) or none.
if evac_has sqlite3; then
  echo "tool|sqlite3 $(sqlite3 --version 2>/dev/null | cut -d ' ' -f 1)"
elif evac_has python3 && python3 -c 'import sqlite3' 2>/dev/null; then
  echo "tool|python3 $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
else
  echo "tool|copy"
fi
find / -maxdepth 0 -printf '' >/dev/null 2>&1 || exit 0  # needs GNU find's -printf
header="53 51 4c 69 74 65 20 66 6f 72 6d 61 74 20 33 00"
pruned="@PRUNE@"
prune=""
for p in $pruned; do prune="$prune -path $p -prune -o"; done
{
  # shellcheck disable=SC2086  # the roots are globs and the prunes options, split on purpose
  find @ROOTS@ -xdev $prune -type f -size +511c -printf '%s %p\n' 2>/dev/null
  find /proc/[0-9]*/fd -type l -printf '%l\n' 2>/dev/null | sort -u | while IFS= read -r f; do
    case $f in
      /proc/* | /sys/* | /dev/* | /run/* | /tmp/* | /var/tmp/* | *' (deleted)') continue ;;
      /*) ;;
      *) continue ;;
    esac
    [ -f "$f" ] && stat -c '%s %n' -- "$f" 2>/dev/null
  done
} | awk '$1 % 512 == 0 && $1 > 0 { sub(/^[0-9]+ /, ""); print }' | sort -u |
  while IFS= read -r f; do
    got=$(od -An -tx1 -N16 -- "$f" 2>/dev/null | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
    [ "$got" = "$header" ] && stat -c 'db|%s|%U|%G|%a|%n' -- "$f" 2>/dev/null
  done
:
