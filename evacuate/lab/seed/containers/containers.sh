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

# shellcheck disable=SC2034  # ENGINE: the CLI shop.sh's functions call
ENGINE=podman
# shellcheck source=shop.sh
. "$SEED_DIR/shop.sh"

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

busybox_image

echo "seed: a PostgreSQL 15 root (the host's postgresql-15 files and the libraries they load)"
echo "seed: imported as localhost/lab/postgres:15, shaped like the official postgres image"
root=$(mktemp -d)
busybox_root "$root"
sh "$SEED_DIR/pg-root.sh" "$root"
install -m 0755 "$SEED_DIR/pg-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' > "$root/etc/group"
install -d -o 999 -g 999 -m 0700 "$root/var/lib/postgresql/data"
install -d -o 999 -g 999 -m 2775 "$root/var/run/postgresql"
tar -C "$root" -cf - . | podman import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/bin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'ENV TZ=UTC' \
  --change 'USER postgres' --change 'STOPSIGNAL SIGINT' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD ["postgres", "-c", "listen_addresses="]' - localhost/lab/postgres:15
rm -rf "$root"
podman run --rm --entrypoint /usr/lib/postgresql/15/bin/postgres localhost/lab/postgres:15 --version

echo "seed: the host's own PostgreSQL removed (only the container runs one)"
pg_dropcluster --stop 15 main 2>/dev/null || true
apt-get purge -y postgresql-15 postgresql-client-15 postgresql-common postgresql-client-common >/dev/null
rm -rf /var/lib/postgresql /etc/postgresql /etc/postgresql-common /var/log/postgresql
userdel postgres 2>/dev/null || true

shop_files compose.yaml compose.yaml
cd /srv/shop
podman-compose build
podman image exists localhost/shop/web:1
podman image exists localhost/shop/worker:1
podman-compose up -d
wait_for "the web app" 'busybox wget -q -O /dev/null http://127.0.0.1:8081/cgi-bin/notes'
wait_for "the database" 'podman exec shop_db_1 pg_isready -q'

echo "seed: the shop database in its container (a role, three tables, a sequence)"
podman exec -i shop_db_1 psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
create role shop login;
create database shop owner shop;
\connect shop
set role shop;
create table customers (id serial primary key, name text not null, city text);
create table orders (id serial primary key, customer int references customers, item text,
                     amount numeric(8,2), placed timestamptz default '2026-11-30 10:00+00');
create table stock (item text primary key, count int not null);
insert into customers (name, city) values ('Anna Berg', 'Graz'), ('Jörg Weiß', 'Köln'),
  ('Chen Li', 'Leeds');
insert into orders (customer, item, amount) values (1, 'paper bags', 12.50),
  (1, 'flyers', 80.00), (2, 'paper bags', 6.25), (3, 'labels', 9.99), (3, 'tape', 3.10);
insert into stock select 'item ' || n, n * 7 from generate_series(1, 40) n;
SQL

shop_notes
podman-compose stop

shop_cache --network host
shop_migrate

echo "seed: the containers start at boot (restart: always)"
systemctl enable podman-restart.service
podman ps -a
