-- evacuate: the server's part of a MariaDB database's quiet line (evacuate.engines.mysql:
-- the reasoning in full), read before the dump's checks; @db is the database's name (set
-- before this runs). Read-only: information_schema and server variables only.
-- "mariadb VERSION SERVER_ID START LSN BINLOG MYISAM": the server's start (a restart, a new
-- data directory), InnoDB's log sequence number (every change to an InnoDB table, and DDL
-- on one, moves it the moment it is made), the binary log's GTID position when it is on,
-- and each MyISAM table's size, rows and modification time. Empty (the full check decides)
-- when the server does not say its LSN (MySQL, which has no Innodb_lsn_current), when the
-- database has a table of another engine (Aria, MEMORY, CSV, ...: their writes move
-- neither), or when a MyISAM table was written in this second or the one before (its time
-- has whole seconds: another write in the same second would not move it).
SET SESSION group_concat_max_len = 67108864;
SELECT IF(
  (SELECT COUNT(*) FROM information_schema.GLOBAL_STATUS
    WHERE VARIABLE_NAME = 'INNODB_LSN_CURRENT') <> 1
  OR EXISTS (SELECT 1 FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = @db AND TABLE_TYPE <> 'VIEW'
                AND (ENGINE IS NULL OR ENGINE NOT IN ('InnoDB', 'MyISAM')))
  OR EXISTS (SELECT 1 FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = @db AND ENGINE = 'MyISAM'
                AND (UPDATE_TIME IS NULL OR UPDATE_TIME >= NOW() - INTERVAL 2 SECOND)),
  '',
  CONCAT_WS(' ', 'mariadb', REPLACE(@@version, ' ', '_'), @@server_id,
    UNIX_TIMESTAMP() - (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
                         WHERE VARIABLE_NAME = 'UPTIME'),
    (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
      WHERE VARIABLE_NAME = 'INNODB_LSN_CURRENT'),
    IF(@@log_bin, COALESCE(NULLIF(@@gtid_binlog_pos, ''), 'none'), 'off'),
    (SELECT MD5(COALESCE(GROUP_CONCAT(CONCAT_WS(':', TABLE_NAME, TABLE_ROWS, DATA_LENGTH,
                                                INDEX_LENGTH, UPDATE_TIME)
                                      ORDER BY TABLE_NAME SEPARATOR ','), ''))
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = @db AND ENGINE = 'MyISAM')));
