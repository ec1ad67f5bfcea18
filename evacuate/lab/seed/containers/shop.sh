# shellcheck shell=sh
# The shop as both container hosts' seeds make it (sourced by docker.sh and containers.sh,
# which set SEED_DIR and ENGINE, the engine's CLI: docker or podman). canary-* strings
# must never show up in evacuate's artifacts.

wait_for() {  # wait_for <what> <sh condition>: poll up to 60 s
  n=0
  until sh -c "$2"; do
    n=$((n+1)); [ $n -lt 600 ] || { echo "seed: timed out waiting for $1" >&2; exit 1; }
    sleep 0.1
  done
}

busybox_root() {  # busybox_root DIR: a root with busybox's applets in /bin
  chmod 0755 "$1"
  install -d "$1/bin" "$1/etc" "$1/tmp" "$1/root" "$1/usr/local/bin"
  chmod 1777 "$1/tmp"
  cp /bin/busybox "$1/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet"
  done
}

busybox_image() {  # a busybox root with the shop's users imported as localhost/lab/busybox:1.35
  echo "seed: a busybox root imported as localhost/lab/busybox:1.35"
  root=$(mktemp -d)
  busybox_root "$root"
  install -d "$root/www" "$root/data" "$root/state"
  printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nwww-data:x:33:\n' > "$root/etc/group"
  tar -C "$root" -cf - . | "$ENGINE" import --change 'CMD ["/bin/sh"]' - localhost/lab/busybox:1.35
  rm -rf "$root"
}

shop_files() {  # shop_files COMPOSE_FILE NAME: the project under /srv/shop, its file as NAME
  echo "seed: the shop project under /srv/shop"
  install -d /srv/shop/web/www/cgi-bin /srv/shop/worker
  cp "$SEED_DIR/$1" "/srv/shop/$2"
  cp "$SEED_DIR/env" /srv/shop/.env
  chmod 0600 /srv/shop/.env
  cp "$SEED_DIR/web.Containerfile" /srv/shop/web/Containerfile
  install -m 0755 "$SEED_DIR/notes.cgi" /srv/shop/web/www/cgi-bin/notes
  printf '<h1>Shop notes</h1>\n<p>See <a href="/cgi-bin/notes">the notes</a>.</p>\n' > /srv/shop/web/www/index.html
  cp "$SEED_DIR/worker.Containerfile" /srv/shop/worker/Containerfile
  install -m 0755 "$SEED_DIR/worker.sh" /srv/shop/worker/worker.sh
}

shop_notes() {  # notes written through the running app, the worker's summary, attachments
  echo "seed: notes (through the app) and attachments in the volume"
  for note in "order more paper bags" "call the printer about the flyers" "Grüße an das Lager"; do
    busybox wget -q -O /dev/null --post-data "$note" http://127.0.0.1:8081/cgi-bin/notes
  done
  wait_for "the worker's summary" "grep -qx 'notes: 3' \"\$($ENGINE volume inspect shop_worker-state --format '{{.Mountpoint}}')/summary.txt\""
  data=$("$ENGINE" volume inspect shop_notes-data --format '{{.Mountpoint}}')
  install -d -m 0750 -o 33 -g 33 "$data/attachments"
  head -c 300000 /usr/share/common-licenses/GPL-3 > "$data/attachments/terms.txt"
  printf 'invoice 2024-117\n' > "$data/attachments/invoice 2024-117.txt"
  chown 33:33 "$data/attachments/"*
}

shop_cache() {  # shop_cache RUN_OPTION...: shop-cache, outside Compose (restart=always, a token)
  echo "seed: a container outside Compose ($ENGINE run -d, restart=always, a token)"
  "$ENGINE" volume create shop-cache-data
  cache=$("$ENGINE" volume inspect shop-cache-data --format '{{.Mountpoint}}')
  printf 'Shop cache\n' > "$cache/index.html"
  "$ENGINE" run -d --name shop-cache --restart=always "$@" \
    -e CACHE_TITLE="Shop cache" -e CACHE_TOKEN=canary-standalone-token-91c2 \
    -v shop-cache-data:/cache localhost/lab/busybox:1.35 httpd -f -p 8082 -h /cache
  wait_for "the cache" 'busybox wget -q -O /dev/null http://127.0.0.1:8082/'
  "$ENGINE" stop shop-cache
}

shop_migrate() {  # a one-shot job an admin ran by hand: it ran once and exited (no restart)
  echo "seed: a one-shot container that ran once and exited"
  "$ENGINE" run --name shop-migrate --label role=migration localhost/shop/web:1 \
    /bin/sh -c 'echo migrated > /tmp/done'
}
