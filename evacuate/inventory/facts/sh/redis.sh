# Fact family redis: the local redis server (Debian's /etc/redis/redis.conf): its port,
# data directory, persistence settings, whether it answers, and its keyspace (key counts per
# db). The password (requirepass) goes to redis-cli through REDISCLI_AUTH and is never
# printed: only whether one is set.
command -v redis-cli >/dev/null 2>&1 || exit 0
conf=/etc/redis/redis.conf
[ -r "$conf" ] || exit 0
get() {
  sed -n "s/^[[:space:]]*$1[[:space:]][[:space:]]*//p" "$conf" 2>/dev/null \
    | tail -n 1 | sed 's/[[:space:]]*$//; s/^"\(.*\)"$/\1/'
}
port=$(get port); port=${port:-6379}
REDISCLI_AUTH=$(get requirepass)
if [ -n "$REDISCLI_AUTH" ]; then export REDISCLI_AUTH; auth=yes; else unset REDISCLI_AUTH; auth=no; fi
echo "port|$port"
echo "dir|$(get dir)"
echo "appendonly|$(get appendonly)"
echo "auth|$auth"
echo "version|$(redis-cli --version 2>/dev/null | sed -n 's/^redis-cli //p')"
if [ "$port" != 0 ] && redis-cli -p "$port" PING 2>/dev/null | grep -q PONG; then
  echo "running|yes"
  redis-cli -p "$port" INFO keyspace 2>/dev/null | tr -d '\r' \
    | sed -n 's/^\(db[0-9][0-9]*\):keys=\([0-9][0-9]*\),.*/db|\1|\2/p'
else
  echo "running|no"
fi
:
