# What verify compares in the SQLite database at evac_sqlite_path (evac_sqlite_mode: counts
# or objects), by sqlite_inspect.py (evac_sqlite_py) run with python3; without python3, the
# row counts by the sqlite3 CLI (the objects need python3: exit 1). Opened read-only when a
# -wal or -shm is beside it, else read-write so that SQLite removes what its reading makes
# (see sqlite_backup.sh); nothing is written.
# shellcheck disable=SC2154  # evac_sqlite_path, evac_sqlite_mode, evac_sqlite_py: set first
set -u
[ -r "$evac_sqlite_path" ] || { echo "ERROR: $evac_sqlite_path: no such file" >&2; exit 1; }
if command -v python3 >/dev/null 2>&1; then
  exec python3 -c "$evac_sqlite_py" "$evac_sqlite_mode" "$evac_sqlite_path"
fi
ro=''
if [ -e "$evac_sqlite_path-wal" ] || [ -e "$evac_sqlite_path-shm" ]; then ro=-readonly; fi
if [ "$evac_sqlite_mode" = counts ] && command -v sqlite3 >/dev/null 2>&1; then
  # shellcheck disable=SC2086  # $ro: an option or nothing
  q=$(sqlite3 $ro "$evac_sqlite_path" "SELECT group_concat('SELECT ' || \
quote(replace(replace(name, char(9), ' '), char(10), ' ')) || ', count(*) FROM \"' || \
replace(name, '\"', '\"\"') || '\"', ' UNION ALL ') FROM sqlite_master WHERE type = 'table' \
AND upper(sql) NOT LIKE 'CREATE VIRTUAL%'") || exit 1
  [ -z "$q" ] && exit 0
  # shellcheck disable=SC2086
  exec sqlite3 $ro -separator '	' "$evac_sqlite_path" "$q"
fi
echo "ERROR: neither python3 nor sqlite3 to read $evac_sqlite_path" >&2
exit 1
