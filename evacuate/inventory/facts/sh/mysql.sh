# Fact family mysql: see evacuate/inventory/facts/mysql.py. The server's version, data
# directory, port, schemas with their sizes, and accounts as 'user'@'host' (no hashes).
evac_client=
for c in mariadb mysql; do
  if evac_has "$c"; then evac_client=$c; break; fi
done
[ -n "$evac_client" ] || exit 0
evac_server=
for d in mariadbd mysqld; do
  if evac_has "$d" || [ -x "/usr/sbin/$d" ]; then evac_server=$d; break; fi
done
[ -n "$evac_server" ] || exit 0
evac_part server "$evac_server"
evac_part query
"$evac_client" --connect-timeout=10 -N -B -u root -e "SELECT 'version', VERSION(), '' \
UNION ALL SELECT 'datadir', @@datadir, '' \
UNION ALL SELECT 'port', @@port, '' \
UNION ALL SELECT 'database', s.SCHEMA_NAME, COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) \
FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t \
ON t.TABLE_SCHEMA = s.SCHEMA_NAME GROUP BY s.SCHEMA_NAME \
UNION ALL SELECT 'user', CONCAT(QUOTE(User), '@', QUOTE(Host)), '' FROM mysql.user" \
  </dev/null 2>&1
:
