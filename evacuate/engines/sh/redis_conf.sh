# Shell functions reading the local redis.conf (Debian's /etc/redis/redis.conf): the last
# value of a directive, quotes removed. The password is put into REDISCLI_AUTH, exported
# for redis-cli, and never printed.
evac_redis_conf=${EVAC_REDIS_CONF:-/etc/redis/redis.conf}
evac_redis_get() {
  sed -n "s/^[[:space:]]*$1[[:space:]][[:space:]]*//p" "$evac_redis_conf" 2>/dev/null \
    | tail -n 1 | sed 's/[[:space:]]*$//; s/^"\(.*\)"$/\1/'
}
evac_redis_auth() {
  REDISCLI_AUTH=$(evac_redis_get requirepass)
  if [ -n "$REDISCLI_AUTH" ]; then export REDISCLI_AUTH; else unset REDISCLI_AUTH; fi
}
