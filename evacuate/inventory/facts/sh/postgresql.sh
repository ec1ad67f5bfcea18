# Fact family postgresql: see evacuate/inventory/facts/postgresql.py. Read-only queries as
# the postgres OS user over the local socket (psql -X ignores ~/.psqlrc).
evac_has psql || exit 0
id postgres >/dev/null 2>&1 || exit 0
evac_psql() {
  if evac_has runuser; then
    runuser -u postgres -- psql -XAtq -F '|' -p "$1" -d postgres -c "$2"
  else
    su -s /bin/sh postgres -c "psql -XAtq -F '|' -p '$1' -d postgres -c \"$2\""
  fi
}
evac_q="SET default_transaction_read_only = on; \
SELECT 'version', current_setting('server_version'), '', '' \
UNION ALL SELECT 'data_directory', current_setting('data_directory'), '', '' \
UNION ALL SELECT 'port', current_setting('port'), '', '' \
UNION ALL SELECT 'database', datname, pg_database_size(datname)::text, \
pg_get_userbyid(datdba)::text FROM pg_database WHERE NOT datistemplate \
UNION ALL SELECT 'role', rolname, CASE WHEN rolcanlogin THEN 'login' ELSE '' END, '' \
FROM pg_roles WHERE rolname !~ '^pg_';"
if evac_has pg_lsclusters; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name port status _owner datadir _rest; do
    evac_part cluster "$ver $name $port $status $datadir"
    case $status in online*) evac_psql "$port" "$evac_q" </dev/null 2>&1 ;; esac
  done
else
  evac_part cluster "- - 5432 unknown -"
  evac_psql 5432 "$evac_q" 2>&1
fi
:
