-- evacuate: what verify compares in one PostgreSQL database besides the row counts, as
-- "key<TAB>value" lines (psql -XAt -F '<TAB>'): the database's owner and grants, each
-- relation's owner and grants, views, routines, triggers (definitions as md5), sequences'
-- values, schemas with their owners and extensions with their versions. Read-only: the
-- catalog only. Objects an extension owns are its own (the extension line covers them).
with user_ns as (
  select oid, nspname from pg_namespace
   where nspname not in ('pg_catalog', 'information_schema')
     and nspname not like 'pg\_toast%' and nspname not like 'pg\_temp%'
), own as (  -- objects that belong to an extension
  select objid from pg_depend where deptype = 'e'
)
select 'owner', pg_get_userbyid(datdba) from pg_database where datname = current_database()
union all
select 'grants', coalesce(datacl::text, '') from pg_database
 where datname = current_database()
union all
select 'schema ' || n.nspname, pg_get_userbyid(s.nspowner)
  from user_ns n join pg_namespace s on s.oid = n.oid
 where n.oid not in (select objid from own) and n.nspname <> 'public'
union all
select 'relation ' || n.nspname || '.' || c.relname,
       c.relkind::text || ' ' || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '')
  from pg_class c join user_ns n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and c.oid not in (select objid from own)
union all
select 'view ' || n.nspname || '.' || c.relname, md5(pg_get_viewdef(c.oid))
  from pg_class c join user_ns n on n.oid = c.relnamespace
 where c.relkind in ('v', 'm') and c.oid not in (select objid from own)
union all
select 'routine ' || n.nspname || '.' || p.proname || '('
       || pg_get_function_identity_arguments(p.oid) || ')',
       md5(pg_get_functiondef(p.oid)) || ' ' || pg_get_userbyid(p.proowner)
  from pg_proc p join user_ns n on n.oid = p.pronamespace
 where p.prokind in ('f', 'p') and p.oid not in (select objid from own)
union all
select 'trigger ' || n.nspname || '.' || c.relname || '.' || t.tgname,
       md5(pg_get_triggerdef(t.oid))
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join user_ns n on n.oid = c.relnamespace
 where not t.tgisinternal
union all
select 'sequence ' || schemaname || '.' || sequencename, coalesce(last_value::text, 'unused')
  from pg_sequences where schemaname not in ('pg_catalog', 'information_schema')
union all
select 'extension ' || extname, extversion from pg_extension
order by 1;
