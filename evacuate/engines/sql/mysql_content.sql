-- evacuate: the statements that fingerprint the content of every base table of @db, one
-- "CHECKSUM TABLE" each (its line: "<db>.<table><TAB><checksum>"). The client runs what
-- this prints.
SELECT CONCAT('CHECKSUM TABLE `', REPLACE(table_schema, '`', '``'), '`.`',
              REPLACE(table_name, '`', '``'), '` EXTENDED;')
  FROM information_schema.tables
 WHERE table_type = 'BASE TABLE' AND table_schema = @db
 ORDER BY table_name;
