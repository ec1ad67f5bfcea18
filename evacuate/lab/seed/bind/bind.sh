#!/bin/sh
# Seed lab-bind: a self-hosted authoritative BIND 9 (Debian's bind9) for the zone hosted.test,
# changed by dynamic update (RFC 2136) signed with TSIG keys: evacuate's key may change any
# record of the zone, an ACME client's key only the zone's _acme-challenge TXT records (an
# update-policy as hosters and self-hosters write it). Runs once inside the image at build
# time; the zone's records name the lab's addresses, so `lab up` writes the zone file
# (evacuate/lab/bindzone.py) before the host boots.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8

install -d -o root -g bind -m 0750 /etc/bind/keys
cat > /etc/bind/keys/evacuate-lab.key <<'KEY'
key "evacuate-lab." {
	algorithm hmac-sha256;
	secret "84T69h0AK3yiC7czRZh6uMDx6tu+Un4fAlSJM7Lt98A=";
};
KEY
cat > /etc/bind/keys/acme-lab.key <<'KEY'
key "acme-lab." {
	algorithm hmac-sha256;
	secret "BWZiIGMVe3/aBBPhNluAstT6tpCumOuYU0jp6HpUfeM=";
};
KEY
chown root:bind /etc/bind/keys/*.key
chmod 0640 /etc/bind/keys/*.key

cat > /etc/bind/named.conf.options <<'CONF'
options {
	directory "/var/cache/bind";
	listen-on { any; };
	listen-on-v6 { none; };
	recursion no;
	allow-query { any; };
	allow-transfer { none; };
	dnssec-validation no;
	version "not disclosed";
};
CONF
cat > /etc/bind/named.conf.local <<'CONF'
include "/etc/bind/keys/evacuate-lab.key";
include "/etc/bind/keys/acme-lab.key";

// hosted.test: written by `lab up`, changed by dynamic update only (journal beside it)
zone "hosted.test" {
	type primary;
	file "/var/lib/bind/hosted.test.zone";
	update-policy {
		grant evacuate-lab. zonesub ANY;
		grant acme-lab. name _acme-challenge.hosted.test. TXT;
	};
};
CONF
# the lab's hosts have no IPv6: without -4 named logs a failure per query it cannot route
sed -i 's/^OPTIONS=.*/OPTIONS="-u bind -4"/' /etc/default/named
named-checkconf
systemctl enable named.service
