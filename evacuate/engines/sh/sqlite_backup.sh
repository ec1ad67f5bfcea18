# Write a consistent copy of the SQLite database at evac_sqlite_path to stdout, the source
# left as it is: SQLite's online backup by the sqlite3 CLI (.backup), else by python3's
# sqlite3 module (Connection.backup), else the file itself, copied only when no transaction
# is open on it (no hot -journal beside it, no -wal with frames in it: a weaker guarantee,
# which the plan names). A database with a -wal or -shm beside it (in use) is opened
# read-only; one without is opened read-write, so that SQLite removes the -wal and -shm
# its reading makes when it closes (a read-only reader of a WAL database leaves them).
# The backup API writes a file: it is made in a private temporary directory (TMPDIR, else
# /var/tmp) and removed. The copy waits up to evac_sqlite_tries (50) times 0.2 s for a
# transaction to end.
# shellcheck disable=SC2154  # evac_sqlite_path: set first
set -u
db=$evac_sqlite_path
[ -r "$db" ] || { echo "ERROR: $db: no such file" >&2; exit 1; }
if [ -e "$db-wal" ] || [ -e "$db-shm" ]; then ro=-readonly uri=ro; else ro='' uri=rw; fi
tmpd=$(mktemp -d "${TMPDIR:-/var/tmp}/evacuate-sqlite.XXXXXX") || exit 1
trap 'rm -rf "$tmpd"' EXIT
copy="$tmpd/copy"
if command -v sqlite3 >/dev/null 2>&1; then
  # shellcheck disable=SC2086  # $ro: an option or nothing
  sqlite3 $ro "$db" ".backup '$copy'" || exit 1
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import sqlite3' 2>/dev/null; then
  python3 -c 'import sqlite3, sys, urllib.parse
source = sqlite3.connect("file:" + urllib.parse.quote(sys.argv[1]) + "?mode=" + sys.argv[3],
                         uri=True)
copy = sqlite3.connect(sys.argv[2])
source.backup(copy)
copy.close()
source.close()' "$db" "$copy" "$uri" || exit 1
else
  n=0
  while [ -s "$db-journal" ] || [ -s "$db-wal" ]; do  # a transaction or WAL frames: wait
    n=$((n + 1))
    if [ $n -gt "${evac_sqlite_tries:-50}" ]; then
      echo "ERROR: $db is being written (a -journal or -wal beside it) and the host has" \
        "neither sqlite3 nor python3 for an online backup" >&2
      exit 1
    fi
    sleep 0.2
  done
  cat "$db" > "$copy" || exit 1
  if [ -s "$db-journal" ] || [ -s "$db-wal" ]; then
    echo "ERROR: $db was written while it was copied" >&2; exit 1
  fi
fi
cat "$copy"
