# Print a digest of the local redis's keyspace, read-only: with evac_redis_mode=content one
# "content dbN<TAB><md5>" line per db (the md5 of its keys' sorted digests: key, type and
# value, as lua/redis_digest.lua writes them, so a value loaded from an RDB on another host
# digests alike), with evac_redis_mode=expiry one "dbN <md5>" line per db of its keys with
# their absolute expiry times. The keys are read by SCAN, evac_redis_count (500) at a time,
# each step one short script (EVAL_RO; EVAL on a redis before 7), so the server is never
# blocked long. Needs: evac_redis_cli (redis-cli with its port), evac_redis_lua (the
# script's text), evac_redis_mode; REDISCLI_AUTH set by redis_conf.sh's evac_redis_auth.
# shellcheck disable=SC2154  # evac_redis_cli, evac_redis_lua, evac_redis_mode: set first
set -u
LC_ALL=C; export LC_ALL
evac_redis_verb=EVAL_RO
evac_redis_count=${evac_redis_count:-500}
evac_redis_scan() {  # $1: a db number; every key's digest line of that db, unsorted
  cursor=0
  while :; do
    # shellcheck disable=SC2086  # evac_redis_cli is a command with its options
    out=$($evac_redis_cli -n "$1" "$evac_redis_verb" "$evac_redis_lua" 0 "$cursor" \
      "$evac_redis_mode" "$evac_redis_count" 2>&1) || {
      printf 'ERROR: %s\n' "$out" | head -n 1 >&2; return 1; }
    first=$(printf '%s\n' "$out" | head -n 1)
    case $first in
      *"unknown command"*)
        if [ "$evac_redis_verb" = EVAL_RO ]; then evac_redis_verb=EVAL; continue; fi
        printf 'ERROR: %s\n' "$first" >&2; return 1 ;;
      '' | *[!0-9]*) printf 'ERROR: %s\n' "$first" >&2; return 1 ;;
    esac
    cursor=$first
    printf '%s\n' "$out" | tail -n +2
    [ "$cursor" = 0 ] && return 0
  done
}
# shellcheck disable=SC2086
dbs=$($evac_redis_cli INFO keyspace 2>&1 | tr -d '\r') || {
  printf 'ERROR: %s\n' "$dbs" | head -n 1 >&2; exit 1; }
case $dbs in *"# Keyspace"*) ;; *) printf 'ERROR: %s\n' "$dbs" | head -n 1 >&2; exit 1 ;; esac
for db in $(printf '%s\n' "$dbs" | sed -n 's/^db\([0-9][0-9]*\):.*/\1/p'); do
  lines=$(evac_redis_scan "$db") || exit 1
  sum=$(printf '%s\n' "$lines" | sort -u | md5sum | cut -d ' ' -f 1)
  if [ "$evac_redis_mode" = content ]; then
    printf 'content db%s\t%s\n' "$db" "$sum"
  else
    printf 'db%s %s\n' "$db" "$sum"
  fi
done
