#!/bin/sh
# Seed lab-docker: a Docker host. Debian's docker.io runs the Compose project "shop" with
# Debian's docker-compose 1.29 (the web app of lab-containers on the project's bridge network,
# its port 8081 published; a worker that summarises the notes into a second volume), the
# images built locally from a busybox root imported into Docker (no registry is reachable),
# a container outside Compose (docker run -d --restart=always, port 8082 published, a token),
# a one-shot container that ran and exited. Runs once inside the image at build time
# (systemd-nspawn without --boot, private network, a cgroup v2 tree of its own: see
# evacuate/lab/hosts.py NESTED_ENGINE_ARGS), with dockerd started by hand for the build.
# canary-* strings must never show up in evacuate's artifacts.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8
SEED_DIR=$(cd "$(dirname "$0")" && pwd)

wait_for() {  # wait_for <what> <sh condition>: poll up to 60 s
  n=0
  until sh -c "$2"; do
    n=$((n+1)); [ $n -lt 600 ] || { echo "seed: timed out waiting for $1" >&2; exit 1; }
    sleep 0.1
  done
}

echo "seed: Docker with vfs storage (the lab host's root is an overlay)"
install -d /etc/docker
printf '{\n  "storage-driver": "vfs"\n}\n' > /etc/docker/daemon.json
# for the build only: no systemd (cgroupfs), no NAT rules (the build has no network)
dockerd --exec-opt native.cgroupdriver=cgroupfs --iptables=false --ip-masq=false \
  --pidfile /run/docker-seed.pid > /run/dockerd-seed.log 2>&1 &
wait_for "dockerd" 'docker info >/dev/null 2>&1'
docker version --format 'docker {{.Server.Version}}'
docker-compose version --short

echo "seed: a busybox root imported as localhost/lab/busybox:1.35"
root=$(mktemp -d)
install -d "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/www" "$root/data" \
  "$root/state" "$root/usr/local/bin"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nwww-data:x:33:\n' > "$root/etc/group"
tar -C "$root" -cf - . | docker import --change 'CMD ["/bin/sh"]' - localhost/lab/busybox:1.35
rm -rf "$root"

echo "seed: the shop project under /srv/shop"
install -d /srv/shop/web/www/cgi-bin /srv/shop/worker
cp "$SEED_DIR/docker-compose.yaml" /srv/shop/docker-compose.yml
cp "$SEED_DIR/env" /srv/shop/.env
chmod 0600 /srv/shop/.env
cp "$SEED_DIR/web.Containerfile" /srv/shop/web/Containerfile
install -m 0755 "$SEED_DIR/notes.cgi" /srv/shop/web/www/cgi-bin/notes
printf '<h1>Shop notes</h1>\n<p>See <a href="/cgi-bin/notes">the notes</a>.</p>\n' > /srv/shop/web/www/index.html
cp "$SEED_DIR/worker.Containerfile" /srv/shop/worker/Containerfile
install -m 0755 "$SEED_DIR/worker.sh" /srv/shop/worker/worker.sh
cd /srv/shop
docker-compose build
docker image inspect localhost/shop/web:1 >/dev/null
docker image inspect localhost/shop/worker:1 >/dev/null
docker-compose up -d
wait_for "the web app" 'busybox wget -q -O /dev/null http://127.0.0.1:8081/cgi-bin/notes'

echo "seed: notes (through the app) and attachments in the volume"
for note in "order more paper bags" "call the printer about the flyers" "Grüße an das Lager"; do
  busybox wget -q -O /dev/null --post-data "$note" http://127.0.0.1:8081/cgi-bin/notes
done
wait_for "the worker's summary" "grep -qx 'notes: 3' \"\$(docker volume inspect shop_worker-state --format '{{.Mountpoint}}')/summary.txt\""
data=$(docker volume inspect shop_notes-data --format '{{.Mountpoint}}')
install -d -m 0750 -o 33 -g 33 "$data/attachments"
head -c 300000 /usr/share/common-licenses/GPL-3 > "$data/attachments/terms.txt"
printf 'invoice 2024-117\n' > "$data/attachments/invoice 2024-117.txt"
chown 33:33 "$data/attachments/"*
docker-compose stop

echo "seed: a container outside Compose (docker run -d, restart=always, a port, a token)"
docker volume create shop-cache-data
cache=$(docker volume inspect shop-cache-data --format '{{.Mountpoint}}')
printf 'Shop cache\n' > "$cache/index.html"
docker run -d --name shop-cache --restart=always -p 8082:8082 \
  -e CACHE_TITLE="Shop cache" -e CACHE_TOKEN=canary-standalone-token-91c2 \
  -v shop-cache-data:/cache localhost/lab/busybox:1.35 httpd -f -p 8082 -h /cache
wait_for "the cache" 'busybox wget -q -O /dev/null http://127.0.0.1:8082/'
docker stop shop-cache

echo "seed: a one-shot container that ran once and exited"
docker run --name shop-migrate --label role=migration localhost/shop/web:1 \
  /bin/sh -c 'echo migrated > /tmp/done'

echo "seed: Docker starts at boot and brings the restart=always containers back"
systemctl enable docker.service
docker ps -a
kill "$(cat /run/docker-seed.pid)"
wait_for "dockerd to stop" '! [ -e /run/docker-seed.pid ]'
# dockerd renames its runtimes directory when it starts: a lab host's root is an overlay of
# this image, where renaming a directory of the image fails (EXDEV); it makes it again
rm -rf /var/lib/docker/runtimes
