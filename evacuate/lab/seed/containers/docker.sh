#!/bin/sh
# Seed lab-docker: a Docker host. Debian's docker.io (its data-root moved to /srv/docker) runs the Compose project "shop" with
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

# shellcheck disable=SC2034  # ENGINE: the CLI shop.sh's functions call
ENGINE=docker
# shellcheck source=shop.sh
. "$SEED_DIR/shop.sh"

echo "seed: Docker with vfs storage (the lab host's root is an overlay), its data-root moved to /srv"
# as admins do when the data disk is /srv: Docker's storage is where daemon.json says, not
# /var/lib/docker (evacuate must ask the engine where it is)
install -d /etc/docker
printf '{\n  "storage-driver": "vfs",\n  "data-root": "/srv/docker"\n}\n' > /etc/docker/daemon.json
# for the build only: no systemd (cgroupfs), no NAT rules (the build has no network)
dockerd --exec-opt native.cgroupdriver=cgroupfs --iptables=false --ip-masq=false \
  --pidfile /run/docker-seed.pid > /run/dockerd-seed.log 2>&1 &
wait_for "dockerd" 'docker info >/dev/null 2>&1'
docker version --format 'docker {{.Server.Version}}'
docker-compose version --short

busybox_image
shop_files docker-compose.yaml docker-compose.yml
cd /srv/shop
docker-compose build
docker image inspect localhost/shop/web:1 >/dev/null
docker image inspect localhost/shop/worker:1 >/dev/null
docker-compose up -d
wait_for "the web app" 'busybox wget -q -O /dev/null http://127.0.0.1:8081/cgi-bin/notes'

shop_notes
docker-compose stop

shop_cache -p 8082:8082
shop_migrate

echo "seed: Docker starts at boot and brings the restart=always containers back"
systemctl enable docker.service
docker ps -a
kill "$(cat /run/docker-seed.pid)"
wait_for "dockerd to stop" '! [ -e /run/docker-seed.pid ]'
# dockerd renames its runtimes directory when it starts: a lab host's root is an overlay of
# this image, where renaming a directory of the image fails (EXDEV); it makes it again
rm -rf /srv/docker/runtimes
