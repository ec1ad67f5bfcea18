# Make a PostgreSQL cluster on the target unless its data directory is there, then start it.
# Arguments: CONF (/etc/postgresql/VERSION/NAME) VERSION NAME PORT. The source's
# configuration of the cluster, carried with the files into CONF, is set aside while
# pg_createcluster writes the new cluster's (at the data directory the carried
# postgresql.conf names) and put back over it. Prints "made cluster ..." when it made one.
set -e
c=$1 version=$2 name=$3 port=$4
d=''
if [ -f "$c/postgresql.conf" ]; then
  d=$(sed -n "s/^[[:space:]]*data_directory[[:space:]]*=[[:space:]]*'\(.*\)'.*/\1/p" \
    "$c/postgresql.conf" | tail -n 1)
fi
if [ -z "$d" ] || [ ! -f "$d/PG_VERSION" ]; then
  if [ -d "$c" ]; then rm -rf "$c.evacuate"; mv "$c" "$c.evacuate"; fi
  if [ -n "$d" ]; then
    pg_createcluster "$version" "$name" --port "$port" -d "$d" >/dev/null
  else
    pg_createcluster "$version" "$name" --port "$port" >/dev/null
  fi
  if [ -d "$c.evacuate" ]; then cp -a "$c.evacuate/." "$c/"; rm -rf "$c.evacuate"; fi
  echo "made cluster $version/$name on port $port"
fi
systemctl start "postgresql@$version-$name.service"
