# Put the SQLite database read on stdin at evac_sqlite_path, atomically: written beside it,
# checked (the 16-byte header), given evac_sqlite_owner (user:group) and evac_sqlite_mode,
# then renamed over it; the -wal, -shm and -journal of the file it replaces are removed
# first (they belong to that file, and SQLite would apply them to this one).
# shellcheck disable=SC2154  # evac_sqlite_path, evac_sqlite_owner, evac_sqlite_mode: set first
set -eu
db=$evac_sqlite_path
dir=$(dirname "$db")
[ -d "$dir" ] || { echo "ERROR: $dir: no such directory (the files step makes it)" >&2; exit 1; }
tmp="$dir/.evacuate-restore.$$"
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
header=$(od -An -tx1 -N16 "$tmp" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
if [ "$header" != "53 51 4c 69 74 65 20 66 6f 72 6d 61 74 20 33 00" ]; then
  echo "ERROR: not a SQLite database" >&2; exit 1
fi
[ -z "$evac_sqlite_owner" ] || chown "$evac_sqlite_owner" "$tmp"
[ -z "$evac_sqlite_mode" ] || chmod "$evac_sqlite_mode" "$tmp"
rm -f "$db-wal" "$db-shm" "$db-journal"
mv -f "$tmp" "$db"
trap - EXIT
