#!/bin/sh
# A certbot-shaped /etc/letsencrypt on lab-source (tests/lab/test_dns_lab.py): an ACME
# account, archive/ with the real files and live/ with relative links to them (as certbot
# lays them out), a webroot renewal config in certbot 2.1.0's format, a deploy hook.
set -eu
d=/etc/letsencrypt
n=shop.example.test
acct=$d/accounts/acme-v02.api.letsencrypt.org/directory/3b5c0e2f4b1d9a7e6c8f0a1b2c3d4e5f
mkdir -p "$acct" "$d/archive/$n" "$d/live/$n" "$d/renewal" "$d/renewal-hooks/deploy"
chmod 0700 "$d/accounts" "$d/archive"
printf '{"creation_host": "lab-source"}' > "$acct/meta.json"
printf '{"body": {}, "uri": "https://acme.invalid/acct/1"}' > "$acct/regr.json"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$acct/private_key.json"
chmod 0400 "$acct/private_key.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 20 \
  -subj "/CN=$n" -addext "subjectAltName=DNS:$n,DNS:www.$n" \
  -keyout "$d/archive/$n/privkey1.pem" -out "$d/archive/$n/cert1.pem" 2>/dev/null
cp "$d/archive/$n/cert1.pem" "$d/archive/$n/chain1.pem"
cat "$d/archive/$n/cert1.pem" "$d/archive/$n/chain1.pem" > "$d/archive/$n/fullchain1.pem"
for s in cert privkey chain fullchain; do
  ln -s "../../archive/$n/${s}1.pem" "$d/live/$n/$s.pem"
done
cat > "$d/renewal/$n.conf" <<CONF
# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = $d/archive/$n
cert = $d/live/$n/cert.pem
privkey = $d/live/$n/privkey.pem
chain = $d/live/$n/chain.pem
fullchain = $d/live/$n/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = 3b5c0e2f4b1d9a7e6c8f0a1b2c3d4e5f
authenticator = webroot
webroot_path = /var/www/shop,
server = https://acme-v02.api.letsencrypt.org/directory
[[webroot_map]]
$n = /var/www/shop
www.$n = /var/www/shop
CONF
printf '#!/bin/sh\nsystemctl reload nginx\n' > "$d/renewal-hooks/deploy/reload-nginx"
chmod 0755 "$d/renewal-hooks/deploy/reload-nginx"
