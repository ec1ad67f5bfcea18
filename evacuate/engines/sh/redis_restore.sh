# Restore a redis RDB read on stdin before the service starts: stop redis, put the file in
# the configured dir as the configured dbfilename (owner redis), remove any AOF, and when
# the configuration says appendonly yes, load the RDB once with AOF off and turn AOF on
# (CONFIG SET appendonly yes rewrites the AOF from memory), so that the AOF the service
# starts from holds the data rather than overriding it empty.
# shellcheck disable=SC2154  # evac_redis_conf: set by redis_conf.sh, which runs first
set -eu
[ -r "$evac_redis_conf" ] || { echo "ERROR: $evac_redis_conf not found" >&2; exit 1; }
dir=$(evac_redis_get dir); dir=${dir:-/var/lib/redis}
file=$(evac_redis_get dbfilename); file=${file:-dump.rdb}
aofdir=$(evac_redis_get appenddirname); aofdir=${aofdir:-appendonlydir}
aoffile=$(evac_redis_get appendfilename); aoffile=${aoffile:-appendonly.aof}
owner=$(stat -c %U "$dir")
systemctl stop redis-server.service 2>/dev/null || true
tmp="$dir/.evacuate-restore.rdb"
cat > "$tmp"
if [ "$(head -c 5 "$tmp")" != REDIS ]; then rm -f "$tmp"; echo "ERROR: not an RDB file" >&2; exit 1; fi
chown "$owner:" "$tmp"; chmod 0660 "$tmp"
mv -f "$tmp" "$dir/$file"
rm -rf "${dir:?}/$aofdir" "${dir:?}/$aoffile"
[ "$(evac_redis_get appendonly)" = yes ] || exit 0
evac_redis_auth
sock="$dir/.evacuate-restore.sock"
runuser -u "$owner" -- redis-server "$evac_redis_conf" --appendonly no --port 0 \
  --unixsocket "$sock" --daemonize yes --supervised no --pidfile "$dir/.evacuate-restore.pid" \
  --logfile ""
ask() { redis-cli -s "$sock" "$@" 2>/dev/null; }
poll() {  # poll for a condition with a deadline of about 10 minutes
  n=0; until "$@"; do n=$((n + 1)); [ $n -lt 3000 ] || return 1; sleep 0.2; done
}
loaded() { ask INFO persistence | grep -q '^loading:0'; }
rewritten() {
  info=$(ask INFO persistence | tr -d '\r')
  for want in aof_enabled:1 aof_rewrite_in_progress:0 aof_rewrite_scheduled:0 \
      aof_last_bgrewrite_status:ok; do
    printf '%s\n' "$info" | grep -qx "$want" || return 1
  done
}
gone() { ! [ -S "$sock" ] || ! ask PING >/dev/null; }
poll loaded || { echo "ERROR: redis did not load the RDB" >&2; exit 1; }
ask CONFIG SET appendonly yes >/dev/null
poll rewritten || { echo "ERROR: redis did not write its AOF" >&2; exit 1; }
ask SHUTDOWN >/dev/null || true
poll gone || { echo "ERROR: the temporary redis did not stop" >&2; exit 1; }
rm -f "$sock" "$dir/.evacuate-restore.pid"
