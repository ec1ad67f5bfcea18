-- evacuate: what verify compares in one MySQL/MariaDB database besides the row counts, as
-- "key<TAB>value" lines (mariadb -N -B -r): views, routines, triggers and events
-- (definitions and definers as md5), the grants on the database and on its tables.
-- @db is the database's name (set before this runs). Read-only: information_schema only.
SELECT CONCAT('view ', table_name),
       MD5(CONCAT_WS('|', view_definition, definer, security_type, check_option))
  FROM information_schema.views WHERE table_schema = @db
UNION ALL
SELECT CONCAT('routine ', routine_type, ' ', routine_name),
       MD5(CONCAT_WS('|', routine_definition, definer, security_type, sql_data_access))
  FROM information_schema.routines WHERE routine_schema = @db
UNION ALL
SELECT CONCAT('trigger ', trigger_name),
       MD5(CONCAT_WS('|', event_object_table, action_timing, event_manipulation,
                     action_statement, definer))
  FROM information_schema.triggers WHERE trigger_schema = @db
UNION ALL
SELECT CONCAT('event ', event_name),
       MD5(CONCAT_WS('|', event_definition, definer, status, interval_value, interval_field))
  FROM information_schema.events WHERE event_schema = @db
UNION ALL
SELECT CONCAT('grants ', grantee),
       GROUP_CONCAT(privilege_type ORDER BY privilege_type SEPARATOR ',')
  FROM information_schema.schema_privileges WHERE table_schema = @db GROUP BY grantee
UNION ALL
SELECT CONCAT('grants ', grantee, ' ', table_name),
       GROUP_CONCAT(privilege_type ORDER BY privilege_type SEPARATOR ',')
  FROM information_schema.table_privileges WHERE table_schema = @db
 GROUP BY grantee, table_name
ORDER BY 1;
