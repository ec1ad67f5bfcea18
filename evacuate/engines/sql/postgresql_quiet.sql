-- evacuate: one line that the server keeps itself and that moves whenever anything in this
-- database may have changed, read before the dump's checks (evacuate.engines.base.Engine.
-- quiet_command; the reasoning in full: evacuate/engines/postgresql.py). Read-only.
--   "db ..."  this database's own marker, when the statistics can vouch for it: the
--             cluster's identity (system identifier) and start (a crash loses statistics,
--             a restart restores them), the database's oid and pg_database row, its
--             statistics' last reset, every relation's insert/update/delete/live counters
--             (system catalogs included: DDL, GRANT, COMMENT, large objects are catalog
--             rows), every relation's file node (TRUNCATE, VACUUM FULL, CLUSTER, a rewrite)
--             and every sequence's value (nextval writes no counter).
--   "wal ..." the whole cluster's marker otherwise: identity, WAL position, sequences
--             (every logged change anywhere moves it); none with unlogged relations.
--   ""        nothing on a standby, or when neither can vouch: the full check decides.
-- The statistics vouch only when they are complete: PostgreSQL 15 or later (shared-memory
-- statistics; the older collector may drop messages), track_counts on and set otherwise by
-- no role, database or function setting, and every other session of this database idle
-- for more than 75 seconds (a backend flushes its counters at exit, when idle within 10 s,
-- at the latest 60 s after they were counted; one that is running or in a transaction may
-- hold counts not yet visible).
with me as (
  select d.oid, d.datname from pg_database d where d.datname = current_database()
), vouch as (
  select current_setting('server_version_num')::int >= 150000
     and current_setting('track_counts') = 'on'
     and not exists (select 1 from pg_db_role_setting s, unnest(s.setconfig) c
                      where c ilike 'track\_counts=%')
     and not exists (select 1 from pg_proc p, unnest(p.proconfig) c
                      where c ilike 'track\_counts=%')
     and not exists (select 1 from pg_stat_activity a, me
                      where a.datid = me.oid and a.pid <> pg_backend_pid()
                        and not (a.state = 'idle'
                                 and a.state_change < now() - interval '75 seconds'))
     as ok
), sequences as (
  select md5(coalesce(string_agg(schemaname || '.' || sequencename || '='
                                 || coalesce(last_value::text, '-'), ','
                                 order by schemaname, sequencename), '')) as line
    from pg_sequences
)
select case
  when pg_is_in_recovery() then ''
  when (select ok from vouch) then concat_ws(' ', 'db',
    (select system_identifier::text from pg_control_system()),
    (select extract(epoch from pg_postmaster_start_time())::text),
    (select oid::text from me),
    (select coalesce(extract(epoch from stats_reset)::text, '-')
       from pg_stat_database where datid = (select oid from me)),
    (select md5(concat_ws('|', datdba, encoding, datcollate, datctype, datistemplate,
                          datallowconn, datconnlimit, datacl::text,
                          (select string_agg(s.setrole::text || ':' || s.setconfig::text, ','
                                             order by s.setrole)
                             from pg_db_role_setting s where s.setdatabase = d.oid)))
       from pg_database d where d.oid = (select oid from me)),
    (select md5(coalesce(string_agg(concat_ws(':', relid, n_tup_ins, n_tup_upd, n_tup_del,
                                              n_live_tup), ',' order by relid), ''))
       from pg_stat_all_tables),
    (select md5(coalesce(string_agg(concat_ws(':', oid, relfilenode, relkind,
                                              relpersistence, relnatts), ',' order by oid), ''))
       from pg_class),
    (select line from sequences))
  when exists (select 1 from pg_class where relpersistence = 'u') then ''
  else concat_ws(' ', 'wal', (select system_identifier::text from pg_control_system()),
                 pg_current_wal_lsn()::text, (select line from sequences))
end;
