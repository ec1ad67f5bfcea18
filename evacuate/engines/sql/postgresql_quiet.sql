-- evacuate: one line that the server keeps itself and that moves whenever anything in the
-- database may have changed, read before the dump's checks (evacuate.engines.base.Engine.
-- quiet_command): the cluster's identity (pg_control's system identifier, new with every
-- initdb), its WAL position (every logged change moves it: DML, DDL, TRUNCATE, VACUUM) and
-- the last value of every sequence (nextval logs 32 values ahead, so a nextval alone may not
-- move the WAL). Empty when the database has unlogged relations, whose changes write no
-- WAL: then the full check (schema, counts, fingerprints) decides. On a standby
-- pg_current_wal_lsn() fails: no line, the full check decides.
select case when exists (select 1 from pg_class where relpersistence = 'u') then ''
       else (select system_identifier::text from pg_control_system()) || ' '
            || pg_current_wal_lsn()::text || ' '
            || coalesce((select string_agg(schemaname || '.' || sequencename || '='
                                           || coalesce(last_value::text, '-'), ','
                                           order by schemaname, sequencename)
                         from pg_sequences), '')
       end;
