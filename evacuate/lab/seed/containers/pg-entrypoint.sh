#!/bin/sh
# The lab's PostgreSQL container's entrypoint (as the official postgres image's does):
# make the cluster in $PGDATA when the volume is empty, then run the command (postgres).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --no-locale -E UTF8 -U postgres --auth-local=trust -D "$PGDATA" >/dev/null
fi
exec "$@"
