#!/bin/sh
# Seed lab-containers: a container host. Rootful Podman runs a Compose project "shop" (a
# web app on :8081 that keeps notes in a named volume, a worker that summarises them into a
# second volume), its images built locally from a busybox root imported into Podman (no
# registry is reachable), podman-compose installed by hand from PyPI under /usr/local, a
# one-shot container that ran and exited. Runs once inside the image at build time
# (systemd-nspawn without --boot, private network: no traffic leaves), then it is cached.
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

echo "seed: Podman for a lab host (no overlay mounts, no keyrings, no cgroups, host network)"
install -d /etc/containers
cat > /etc/containers/storage.conf <<'EOF'
# vfs: the lab host's root is an overlay and it may not mount another
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
cat > /etc/containers/containers.conf <<'EOF'
# the lab host's seccomp filter blocks keyctl, and its cgroup controllers are read-only
[containers]
keyring = false
cgroups = "disabled"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF

echo "seed: podman-compose from PyPI, installed by hand (as pip would) under /usr/local"
site=$(python3 -c 'import sys; print("/usr/local/lib/python3.%d/dist-packages" % sys.version_info[1])')
install -d "$site"
python3 -m zipfile -e "$SEED_DIR"/wheels/podman_compose-*.whl "$site"
printf '#!/usr/bin/python3\nimport sys\nfrom podman_compose import main\nsys.exit(main())\n' \
  > /usr/local/bin/podman-compose
chmod 0755 /usr/local/bin/podman-compose
podman-compose version

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
tar -C "$root" -cf - . | podman import --change 'CMD ["/bin/sh"]' - localhost/lab/busybox:1.35
rm -rf "$root"

echo "seed: the shop project under /srv/shop"
install -d /srv/shop/web/www/cgi-bin /srv/shop/worker
cp "$SEED_DIR/compose.yaml" /srv/shop/compose.yaml
cp "$SEED_DIR/env" /srv/shop/.env
chmod 0600 /srv/shop/.env
cp "$SEED_DIR/web.Containerfile" /srv/shop/web/Containerfile
install -m 0755 "$SEED_DIR/notes.cgi" /srv/shop/web/www/cgi-bin/notes
printf '<h1>Shop notes</h1>\n<p>See <a href="/cgi-bin/notes">the notes</a>.</p>\n' > /srv/shop/web/www/index.html
cp "$SEED_DIR/worker.Containerfile" /srv/shop/worker/Containerfile
install -m 0755 "$SEED_DIR/worker.sh" /srv/shop/worker/worker.sh
cd /srv/shop
podman-compose build
podman image exists localhost/shop/web:1
podman image exists localhost/shop/worker:1
podman-compose up -d
wait_for "the web app" 'busybox wget -q -O /dev/null http://127.0.0.1:8081/cgi-bin/notes'

echo "seed: notes (through the app) and attachments in the volume"
for note in "order more paper bags" "call the printer about the flyers" "Grüße an das Lager"; do
  busybox wget -q -O /dev/null --post-data "$note" http://127.0.0.1:8081/cgi-bin/notes
done
wait_for "the worker's summary" "grep -qx 'notes: 3' \"\$(podman volume inspect shop_worker-state --format '{{.Mountpoint}}')/summary.txt\""
data=$(podman volume inspect shop_notes-data --format '{{.Mountpoint}}')
install -d -m 0750 -o 33 -g 33 "$data/attachments"
head -c 300000 /usr/share/common-licenses/GPL-3 > "$data/attachments/terms.txt"
printf 'invoice 2024-117\n' > "$data/attachments/invoice 2024-117.txt"
chown 33:33 "$data/attachments/"*
podman-compose stop

echo "seed: a container outside Compose (podman run -d, restart=always, host network, a token)"
podman volume create shop-cache-data
cache=$(podman volume inspect shop-cache-data --format '{{.Mountpoint}}')
printf 'Shop cache\n' > "$cache/index.html"
podman run -d --name shop-cache --restart=always --network host \
  -e CACHE_TITLE="Shop cache" -e CACHE_TOKEN=canary-standalone-token-91c2 \
  -v shop-cache-data:/cache localhost/lab/busybox:1.35 httpd -f -p 8082 -h /cache
wait_for "the cache" 'busybox wget -q -O /dev/null http://127.0.0.1:8082/'
podman stop shop-cache

echo "seed: a one-shot container that ran once and exited"
podman run --name shop-migrate --label role=migration localhost/shop/web:1 \
  /bin/sh -c 'echo migrated > /tmp/done'

echo "seed: the containers start at boot (restart: always)"
systemctl enable podman-restart.service
podman ps -a
