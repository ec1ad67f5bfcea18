-- evacuate: a statement that fingerprints the content of every user table of the database:
-- one "content <schema>.<table><TAB><md5>" line each (the md5 of the sorted md5s of its
-- rows' text: independent of the rows' physical order). psql runs what this prints.
select string_agg(format(
         'select %L, md5(coalesce(string_agg(md5(t::text), '''' order by md5(t::text)), '''')) '
         'from %I.%I t', 'content ' || schemaname || '.' || relname, schemaname, relname),
       ' union all ' order by schemaname, relname)
  from pg_stat_user_tables;
