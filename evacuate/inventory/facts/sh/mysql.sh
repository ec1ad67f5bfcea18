# Fact family mysql: see evacuate/inventory/facts/mysql.py. The server's version, data
# directory, port, socket, schemas with their sizes, and accounts as 'user'@'host' (no
# hashes); then each running multi-instance unit (mariadb@NAME, mysqld@NAME, mysql@NAME:
# an option group [mariadbd.NAME] / [mysqld.NAME]) asked the same over its own socket.
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
evac_query="SELECT 'version', VERSION(), '' \
UNION ALL SELECT 'datadir', @@datadir, '' \
UNION ALL SELECT 'port', @@port, '' \
UNION ALL SELECT 'socket', @@socket, '' \
UNION ALL SELECT 'database', s.SCHEMA_NAME, COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) \
FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t \
ON t.TABLE_SCHEMA = s.SCHEMA_NAME GROUP BY s.SCHEMA_NAME \
UNION ALL SELECT 'user', CONCAT(QUOTE(User), '@', QUOTE(Host)), '' FROM mysql.user"
evac_part server "$evac_server"
evac_part query
"$evac_client" --connect-timeout=10 -N -B -u root -e "$evac_query" </dev/null 2>&1
evac_has systemctl || exit 0
systemctl list-units --type=service --state=running --plain --no-legend \
  'mariadb@*' 'mysqld@*' 'mysql@*' 2>/dev/null | while read -r evac_unit _rest; do
  evac_name=${evac_unit#*@}
  evac_name=${evac_name%.service}
  [ -n "$evac_name" ] || continue
  # the socket the instance's option groups set (the last one read wins)
  evac_sock=$(my_print_defaults "--defaults-group-suffix=.$evac_name" \
    client-server mysqld server mariadb mariadbd 2>/dev/null \
    | sed -n 's/^--socket=//p' | tail -n 1)
  evac_part instance "$evac_name $evac_unit"
  [ -n "$evac_sock" ] || { echo "no socket set for $evac_name"; continue; }
  "$evac_client" --connect-timeout=10 -N -B -u root "--socket=$evac_sock" \
    -e "$evac_query" </dev/null 2>&1
done
:
