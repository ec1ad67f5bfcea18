#!/bin/sh
# Seed lab-source: a realistic "doomed" server. Runs once inside the image at build
# time (systemd-nspawn without --boot, private network), then the image is cached.
# Canary secrets below (canary-*) must never show up in evacuate's artifacts.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8
SEED_DIR=$(dirname "$0")

echo "seed: timezone, sysctl, changed conffiles"
ln -sf /usr/share/zoneinfo/Europe/Berlin /etc/localtime
echo Europe/Berlin > /etc/timezone
printf '\n# tuned for the database\nvm.swappiness = 10\n' >> /etc/sysctl.conf
sed -i 's/^\(\s*\)# *server_tokens off;/\1server_tokens off;/' /etc/nginx/nginx.conf
grep -q '^\s*server_tokens off;' /etc/nginx/nginx.conf
sed -i 's/^#\?max_connections.*/max_connections         = 200/' /etc/mysql/mariadb.conf.d/50-server.cnf
grep -q '^max_connections' /etc/mysql/mariadb.conf.d/50-server.cnf || \
  printf '[mysqld]\nmax_connections = 200\n' >> /etc/mysql/mariadb.conf.d/50-server.cnf
sed -i 's/^#\?ClientAliveInterval.*/ClientAliveInterval 120/' /etc/ssh/sshd_config
# hardening done after the install, as CIS benchmarks ask: chfn without its setuid bit,
# cron's table readable by root only (package files with their content unchanged: dpkg's
# records cannot show it)
chmod 0755 /usr/bin/chfn
chmod 0600 /etc/crontab
# a package's file patched in place with its old mtime put back (as cp -p or a vendor's
# fix script leaves it): only dpkg's md5sum and the file's ctime show the change
page=/usr/share/nginx/html/index.html
stamp=$(stat -c %Y "$page")
printf '<!-- maintenance contact: ops desk, ext. 4411 -->\n' >> "$page"
touch -d "@$stamp" "$page"

echo "seed: users and groups"
groupadd --gid 1500 webdev
useradd --create-home --shell /bin/bash --uid 1001 --groups sudo,webdev --comment "Alice Admin" alice
useradd --create-home --shell /bin/bash --uid 1002 --groups webdev --comment "Bob Developer" bob
useradd --system --home-dir /srv/notes --no-create-home --shell /usr/sbin/nologin notes
# the accounts' issue (12): a service account the admin made (adduser --system --group)
# that owns no data, only its config; a package's account in the admin's group; bob's
# password aging and account expiry
useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin notesd
printf '[notesd]\nlisten = 127.0.0.1:8090\n' > /etc/notesd.conf
chown root:notesd /etc/notesd.conf; chmod 0640 /etc/notesd.conf
usermod -aG webdev www-data
chage -m 1 -M 90 -W 14 -I 30 -E 2031-12-31 bob
# canary shadow hash (password "canary-shadow-pass"); never to appear in artifacts
echo 'alice:$6$canarysalt$8bO0bLQ2e7HQ7mYcG3hJ3pM7o3o1eW0m0sH4m7u2Zq0L0k5C6Zb2b7E2sQm1nH0e4Q9xJ8uN2yR1dA3tS5vW6.' | chpasswd -e
printf 'alice ALL=(ALL:ALL) NOPASSWD: /usr/bin/systemctl restart nginx, /usr/bin/systemctl reload nginx\n' > /etc/sudoers.d/alice-nginx
chmod 0440 /etc/sudoers.d/alice-nginx
for u in alice bob; do
  install -d -m 0700 -o "$u" -g "$u" "/home/$u/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C "$u@workstation" -f "/home/$u/.ssh/id_ed25519"
  cp "/home/$u/.ssh/id_ed25519.pub" "/home/$u/.ssh/authorized_keys"
  chown "$u:$u" /home/$u/.ssh/*
  chmod 0600 "/home/$u/.ssh/authorized_keys"
done
ssh-keygen -q -t ed25519 -N '' -C "alice@laptop" -f /tmp/alice-laptop
cat /tmp/alice-laptop.pub >> /home/alice/.ssh/authorized_keys
rm -f /tmp/alice-laptop /tmp/alice-laptop.pub
install -d -o alice -g alice /home/alice/bin
printf '#!/bin/sh\n# copy the nightly reports\ncp -a /srv/data/public/. "$HOME/reports/" 2>/dev/null || true\n' > /home/alice/bin/sync-reports.sh
chmod 0755 /home/alice/bin/sync-reports.sh; chown alice:alice /home/alice/bin/sync-reports.sh

echo "seed: web sites and TLS"
install -d /var/www/www.example.test /var/www/shop
cat > /var/www/www.example.test/index.html <<'EOF'
<!doctype html>
<html><head><meta charset="utf-8"><title>Example Test – Home</title></head>
<body><h1>Welcome to example.test</h1><p>This server is about to be evacuated.</p></body></html>
EOF
cat > /var/www/shop/index.html <<'EOF'
<!doctype html>
<html><head><meta charset="utf-8"><title>Shop – example.test</title></head>
<body><h1>The shop</h1><p>Orders are stored in PostgreSQL.</p></body></html>
EOF
chown -R www-data:www-data /var/www/shop
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -sha256 \
  -subj "/CN=shop.example.test/O=Example Test" \
  -addext "subjectAltName=DNS:shop.example.test,DNS:www.shop.example.test" \
  -keyout /etc/ssl/private/shop.example.test.key -out /etc/ssl/certs/shop.example.test.crt 2>/dev/null
chmod 0640 /etc/ssl/private/shop.example.test.key
chgrp ssl-cert /etc/ssl/private/shop.example.test.key 2>/dev/null || true
cp "$SEED_DIR/nginx-www.conf" /etc/nginx/sites-available/www.example.test
cp "$SEED_DIR/nginx-shop.conf" /etc/nginx/sites-available/shop.example.test
rm -f /etc/nginx/sites-enabled/default
ln -s ../sites-available/www.example.test /etc/nginx/sites-enabled/www.example.test
ln -s ../sites-available/shop.example.test /etc/nginx/sites-enabled/shop.example.test
nginx -t 2>&1

echo "seed: the custom app (notes) with its unit, timer and cron"
install -d -m 0755 /opt/notes
cp "$SEED_DIR/notes-app.py" /opt/notes/app.py
chmod 0755 /opt/notes/app.py
cat > /opt/notes/config.ini <<'EOF'
[server]
port = 8080
data_dir = /srv/notes

[upstream]
# canary secret: must never appear in evacuate's inventories, plans or logs
api_token = canary-token-7c0ffee5eed

[database]
# canary secret (a password in a URL): must never appear in inventories, plans or logs
url = postgresql://shop:canary-dburl-3d5a9e61@127.0.0.1:5432/shop
EOF
chown root:notes /opt/notes/config.ini; chmod 0640 /opt/notes/config.ini
install -d -m 0750 -o notes -g notes /srv/notes /srv/notes/tmp
for i in 1 2 3; do echo "note $i" > "/srv/notes/note-$i.txt"; done
chown notes:notes /srv/notes/*.txt
cp "$SEED_DIR/notes.service" "$SEED_DIR/notes-cleanup.service" "$SEED_DIR/notes-cleanup.timer" /etc/systemd/system/
systemctl enable notes.service notes-cleanup.timer 2>&1
install -d /etc/systemd/system/nginx.service.d
printf '[Service]\nLimitNOFILE=65536\n' > /etc/systemd/system/nginx.service.d/limits.conf

echo "seed: cron"
cat > /usr/local/sbin/backup-db.sh <<'EOF'
#!/bin/sh
# nightly local dump (the kind of backup that burns with the datacenter)
runuser -u postgres -- pg_dump -Fc shop > /var/backups/shop.dump
EOF
chmod 0750 /usr/local/sbin/backup-db.sh
printf 'MAILTO=root\n17 3 * * * /usr/local/sbin/backup-db.sh\n' | crontab -u root -
# nightly: a job every half hour wrote ~/reports on the source and the target mid-test
printf '45 4 * * * /home/alice/bin/sync-reports.sh\n' | crontab -u alice -
printf 'SHELL=/bin/sh\n0 6 * * * notes /usr/bin/python3 /opt/notes/app.py --report > /dev/null\n' > /etc/cron.d/notes-report
chmod 0644 /etc/cron.d/notes-report

echo "seed: /srv data with varied owners, modes, links, sparse and odd names"
install -d -m 0755 /srv/data /srv/data/public "/srv/data/Reports 2024" "/srv/data/café"
install -d -m 2775 -o www-data -g webdev /srv/data/uploads
install -d -m 0700 -o alice -g alice /srv/data/private
i=0
while [ $i -lt 200 ]; do
  printf 'public file %d\n' $i > "/srv/data/public/file-$i.txt"; i=$((i+1))
done
echo "alpha" > /srv/data/public/a.txt
ln /srv/data/public/a.txt /srv/data/public/hardlink-to-a.txt
printf 'Q1 revenue: 12345\n' > "/srv/data/Reports 2024/Q1 summary.txt"
printf 'naïve résumé\n' > "/srv/data/café/naïve résumé.txt"
ln -s "../Reports 2024/Q1 summary.txt" /srv/data/public/latest-report.txt
ln -s public /srv/data/current
for i in 1 2 3; do printf 'upload %d\n' $i > "/srv/data/uploads/upload-$i.bin"; done
chown www-data:webdev /srv/data/uploads/*; chmod 0664 /srv/data/uploads/*
printf 'secret plans\n' > /srv/data/private/plans.txt
chown alice:alice /srv/data/private/plans.txt; chmod 0600 /srv/data/private/plans.txt
truncate -s 64M /srv/data/sparse.img
printf 'header' | dd of=/srv/data/sparse.img conv=notrunc status=none
printf 'middle' | dd of=/srv/data/sparse.img bs=1M seek=32 conv=notrunc status=none
printf 'left behind by a deleted user\n' > /srv/data/orphan.dat
chown 4242:4242 /srv/data/orphan.dat
chmod 0640 /srv/data/orphan.dat
printf '#!/bin/sh\necho tool\n' > /srv/data/public/tool.sh; chmod 0750 /srv/data/public/tool.sh

echo "seed: PostgreSQL"
# the release's own major version (13 on bullseye, 15 on bookworm, 17 on trixie)
PG_VERSION=$(ls /etc/postgresql | sort -n | tail -n 1)
# the admin's own tuning and access rule (carried across releases: see rebuild/pgcarry.py)
sed -i 's/^max_connections = 100/max_connections = 150/' "/etc/postgresql/$PG_VERSION/main/postgresql.conf"
printf 'host\tshop\treporting\t10.231.0.0/24\tscram-sha-256\n' >> "/etc/postgresql/$PG_VERSION/main/pg_hba.conf"
pg_ctlcluster "$PG_VERSION" main start
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 <<'EOF'
CREATE ROLE shop LOGIN PASSWORD 'canary-pg-9f3b2c71';
CREATE ROLE reporting NOLOGIN;
CREATE DATABASE shop OWNER shop;
\c shop
SET ROLE shop;
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, created timestamptz DEFAULT now());
CREATE TABLE products (id serial PRIMARY KEY, sku text UNIQUE, title text, price_cents int);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers, product_id int REFERENCES products, qty int, placed timestamptz DEFAULT now());
INSERT INTO customers (name, email) SELECT 'Customer ' || g, 'c' || g || '@example.test' FROM generate_series(1, 2000) g;
INSERT INTO products (sku, title, price_cents) SELECT 'SKU-' || g, 'Product ' || g, 100 + g FROM generate_series(1, 500) g;
INSERT INTO orders (customer_id, product_id, qty) SELECT 1 + (g % 2000), 1 + (g % 500), 1 + (g % 5) FROM generate_series(1, 5000) g;
CREATE VIEW order_totals AS SELECT customer_id, sum(qty) AS items FROM orders GROUP BY customer_id;
RESET ROLE;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;
EOF
pg_ctlcluster "$PG_VERSION" main stop

echo "seed: MariaDB"
install -d -o mysql -g mysql /run/mysqld
/usr/sbin/mariadbd --user=mysql --skip-networking >/tmp/mariadb-seed.log 2>&1 &
n=0
until mariadb-admin ping >/dev/null 2>&1; do
  n=$((n+1)); [ $n -lt 300 ] || { cat /tmp/mariadb-seed.log; exit 1; }; sleep 0.1
done
{
  cat <<'EOF'
CREATE DATABASE blog CHARACTER SET utf8mb4;
CREATE USER 'blog'@'localhost' IDENTIFIED BY 'canary-my-4e1d7a09';
GRANT ALL PRIVILEGES ON blog.* TO 'blog'@'localhost';
USE blog;
CREATE TABLE posts (id int AUTO_INCREMENT PRIMARY KEY, title varchar(200) NOT NULL, body text, created datetime DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB;
CREATE TABLE comments (id int AUTO_INCREMENT PRIMARY KEY, post_id int NOT NULL, author varchar(100), body text, FOREIGN KEY (post_id) REFERENCES posts(id)) ENGINE=InnoDB;
CREATE TRIGGER comments_author BEFORE INSERT ON comments FOR EACH ROW SET NEW.author = COALESCE(NEW.author, 'anonymous');
EOF
  seq 1 1000 | awk '{printf "INSERT INTO posts (title, body) VALUES (\"Post %d\", \"Body of post %d, with some text.\");\n", $1, $1}'
  seq 1 3000 | awk '{printf "INSERT INTO comments (post_id, author, body) VALUES (%d, \"reader%d\", \"Comment %d\");\n", 1 + ($1 % 1000), $1 % 50, $1}'
} | mariadb
mariadb-admin shutdown
rm -f /tmp/mariadb-seed.log

echo "seed: done"
