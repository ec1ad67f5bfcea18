#!/bin/sh
# Seed lab-dns: an authoritative name server (PowerDNS with its sqlite3 backend and its HTTP
# API, which dns-lexicon's powerdns provider drives) and a BIND-backend zone the API cannot
# edit. Runs once inside the image at build time (systemd-nspawn without --boot, private
# network). The zones' records name the lab's addresses, so `lab up` writes them into the
# database (evacuate/lab/dnszone.py) before the host boots.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8

schema=$(find /usr/share -name schema.sqlite3.sql | head -n 1)
[ -n "$schema" ] || { echo "seed: no sqlite3 schema in pdns-backend-sqlite3" >&2; exit 1; }
install -d -o pdns -g pdns -m 0755 /var/lib/powerdns
rm -f /var/lib/powerdns/pdns.sqlite3
sqlite3 /var/lib/powerdns/pdns.sqlite3 < "$schema"
chown pdns:pdns /var/lib/powerdns/pdns.sqlite3
chmod 0640 /var/lib/powerdns/pdns.sqlite3

rm -f /etc/powerdns/pdns.d/*.conf
cat > /etc/powerdns/pdns.d/lab.conf <<'CONF'
launch=gsqlite3,bind
gsqlite3-database=/var/lib/powerdns/pdns.sqlite3
bind-config=/etc/powerdns/named.conf
local-address=0.0.0.0
api=yes
api-key=lab-pdns-api-key-7c41
webserver=yes
webserver-address=0.0.0.0
webserver-port=8081
webserver-allow-from=0.0.0.0/0
default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 300
CONF
# BIND zones: read from files, which the API cannot edit
: > /etc/powerdns/named.conf
systemctl enable pdns.service
