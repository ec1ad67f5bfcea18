#!/bin/sh
# Seed lab-mail: a lived-in mail and webmail server, the second doomed server of the lab
# (a different shape from lab-source). Runs once inside the image at build time
# (systemd-nspawn without --boot, private network: no traffic leaves), then it is cached.
# Passwords below are the lab's (tests log in over IMAP with them); canary-* strings must
# never show up in evacuate's artifacts.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8
SEED_DIR=$(cd "$(dirname "$0")" && pwd)

wait_for() {  # wait_for <what> <sh condition>: poll up to 30 s
  n=0
  until sh -c "$2"; do
    n=$((n+1)); [ $n -lt 300 ] || { echo "seed: timed out waiting for $1" >&2; exit 1; }
    sleep 0.1
  done
}

echo "seed: timezone and sysctl"
ln -sf /usr/share/zoneinfo/Europe/Vienna /etc/localtime
echo Europe/Vienna > /etc/timezone
printf '# mail server tuning\nnet.core.somaxconn = 1024\n# redis asks for it\nvm.overcommit_memory = 1\n' \
  > /etc/sysctl.d/60-mail.conf

echo "seed: users (uid/gid 1000 and 1001, like a cloud image's first users) and keys"
groupadd --gid 1000 anna
groupadd --gid 1001 ben
useradd --create-home --shell /bin/bash --uid 1000 --gid 1000 --groups www-data,sudo \
  --comment "Anna Postmaster" anna
useradd --create-home --shell /bin/bash --uid 1001 --gid 1001 --comment "Ben Sales" ben
printf 'anna:lab-imap-anna-5d1e\nben:lab-imap-ben-83c2\n' | chpasswd
for u in anna ben; do
  install -d -m 0700 -o "$u" -g "$u" "/home/$u/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C "$u@desk" -f "/home/$u/.ssh/id_ed25519"
  cp "/home/$u/.ssh/id_ed25519.pub" "/home/$u/.ssh/authorized_keys"
  chown "$u:$u" /home/$u/.ssh/*
  chmod 0600 "/home/$u/.ssh/authorized_keys"
done
install -d -m 0700 -o anna -g anna /home/anna/.notes /home/anna/bin
printf 'renew the DKIM key in spring\n' > /home/anna/.notes/todo.txt
chown anna:anna /home/anna/.notes/todo.txt
printf '#!/bin/sh\n# weekly: report the size of the mailboxes\ndu -sh "$HOME/Maildir"\n' > /home/anna/bin/mailbox-size.sh
chmod 0755 /home/anna/bin/mailbox-size.sh; chown anna:anna /home/anna/bin/mailbox-size.sh

echo "seed: Postfix (Maildir delivery, DKIM milter, nothing leaves: smtp is deferred)"
[ -f /etc/postfix/main.cf ] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
echo mail.example.test > /etc/mailname
postconf -e 'myhostname = mail.example.test' 'mydomain = example.test' \
  'myorigin = /etc/mailname' 'mydestination = $myhostname, example.test, localhost' \
  'inet_interfaces = all' 'inet_protocols = ipv4' 'home_mailbox = Maildir/' \
  'relayhost =' 'defer_transports = smtp' \
  'smtpd_milters = inet:localhost:8891' 'non_smtpd_milters = $smtpd_milters' \
  'milter_default_action = accept' 'message_size_limit = 20480000'
sed -i 's/^postmaster:.*/postmaster: anna/' /etc/aliases
printf 'sales: ben\nabuse: anna\n' >> /etc/aliases
newaliases

echo "seed: OpenDKIM and its keys"
install -d -m 0750 -o opendkim -g opendkim /etc/dkimkeys
opendkim-genkey -b 1024 -D /etc/dkimkeys -d example.test -s mail
chown opendkim:opendkim /etc/dkimkeys/mail.private /etc/dkimkeys/mail.txt
chmod 0600 /etc/dkimkeys/mail.private
sed -i 's/^#\?\s*Domain\s.*/Domain\t\t\texample.test/; s/^#\?\s*Selector\s.*/Selector\t\tmail/;
        s|^#\?\s*KeyFile\s.*|KeyFile\t\t\t/etc/dkimkeys/mail.private|;
        s|^Socket\s.*|Socket\t\t\tinet:8891@localhost|' /etc/opendkim.conf
grep -q '^Domain' /etc/opendkim.conf || printf 'Domain\t\t\texample.test\n' >> /etc/opendkim.conf
grep -q '^Selector' /etc/opendkim.conf || printf 'Selector\t\tmail\n' >> /etc/opendkim.conf
grep -q '^KeyFile' /etc/opendkim.conf || printf 'KeyFile\t\t\t/etc/dkimkeys/mail.private\n' >> /etc/opendkim.conf
grep -q '^Socket' /etc/opendkim.conf || printf 'Socket\t\t\tinet:8891@localhost\n' >> /etc/opendkim.conf

echo "seed: Dovecot (IMAP, Maildir) and the mailboxes"
sed -i 's|^mail_location = .*|mail_location = maildir:~/Maildir|' /etc/dovecot/conf.d/10-mail.conf
grep -q '^mail_location = maildir:~/Maildir' /etc/dovecot/conf.d/10-mail.conf
message() {  # message <from> <to> <subject> <n>
  printf 'From: %s\nTo: %s\nSubject: %s\nDate: Mon, 4 Mar 2024 10:%02d:00 +0100\nMessage-ID: <seed-%s-%s@example.test>\nContent-Type: text/plain; charset=utf-8\n\nHello,\n\nthis is message %s (%s).\n' \
    "$1" "$2" "$3" "$4" "$(echo "$2" | cut -d@ -f1)" "$4" "$4" "$3"
}
save() {  # save <user> <mailbox> <count> <subject>
  i=1
  while [ $i -le "$3" ]; do
    message "customer$i@shop.example.test" "$1@example.test" "$4 $i" $i | doveadm save -u "$1" -m "$2"
    i=$((i+1))
  done
}
dovecot  # doveadm asks its auth service for the users
wait_for dovecot '[ -S /run/dovecot/auth-userdb ]'
for user in anna ben; do doveadm mailbox create -u "$user" -s Archive Sent; done
doveadm mailbox create -u anna -s "Entwürfe"
save anna INBOX 4 "Order question"
save anna Archive 3 "Old invoice"
save anna "Entwürfe" 1 "Draft reply"
save ben INBOX 2 "Quote request"
save ben Sent 2 "Our offer"

echo "seed: one message delivered by Postfix, one waiting in the queue"
[ -x /usr/lib/postfix/configure-instance.sh ] && /usr/lib/postfix/configure-instance.sh - || true
postfix start
message anna@example.test ben@example.test "Team meeting" 9 | sendmail -f anna@example.test ben@example.test
wait_for "local delivery to ben" '[ -n "$(ls /home/ben/Maildir/new 2>/dev/null)" ]'
message anna@example.test partner@nowhere.invalid "Contract draft" 10 | \
  sendmail -f anna@example.test partner@nowhere.invalid
wait_for "the deferred message" '[ -n "$(find /var/spool/postfix/deferred -type f)" ]'
postfix stop
wait_for "postfix to stop" '! pgrep -x master >/dev/null'
doveadm force-resync -u ben INBOX
doveadm stop
wait_for "dovecot to stop" '! pgrep -x dovecot >/dev/null'

echo "seed: redis with data (RDB persistence on)"
printf '\n# persistence: keep a snapshot\nsave 300 1\n' >> /etc/redis/redis.conf
install -d -o redis -g redis /run/redis
runuser -u redis -- redis-server /etc/redis/redis.conf --daemonize yes --supervised no
wait_for redis 'redis-cli ping 2>/dev/null | grep -q PONG'
seq 1 400 | awk '{printf "SET session:%d user-%d\n", $1, $1 % 7}' | redis-cli >/dev/null
printf 'HSET stats:mail delivered 1234 bounced 7\nRPUSH recent:logins anna ben anna\nSET config:greeting "Welcome back"\n' | redis-cli >/dev/null
redis-cli save >/dev/null
redis-cli shutdown >/dev/null 2>&1 || true
wait_for "redis to stop" '! pgrep -x redis-server >/dev/null'

echo "seed: Roundcube (SQLite under /var/lib/dbconfig-common) on Apache"
RC_DB=$(find /var/lib/dbconfig-common/sqlite3/roundcube -type f | head -n 1)
[ -n "$RC_DB" ]
sqlite3 "$RC_DB" <<'EOF'
INSERT INTO users (username, mail_host, created, language) VALUES ('anna', 'localhost', '2024-01-05 09:00:00', 'de_AT');
INSERT INTO users (username, mail_host, created, language) VALUES ('ben', 'localhost', '2024-01-06 09:00:00', 'en_US');
INSERT INTO identities (user_id, changed, standard, name, email) SELECT user_id, '2024-01-05 09:00:00', 1, 'Anna Postmaster', 'anna@example.test' FROM users WHERE username = 'anna';
INSERT INTO contacts (changed, name, email, firstname, surname, vcard, words, user_id) SELECT '2024-02-01 12:00:00', 'Customer ' || n, 'customer' || n || '@shop.example.test', 'Customer', n, '', '', (SELECT user_id FROM users WHERE username = 'anna') FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 25) SELECT n FROM c);
EOF
sed -i "s|^\$config\['product_name'\].*|\$config['product_name'] = 'Example Test Webmail';|" /etc/roundcube/config.inc.php
grep -q "product_name'\] = 'Example Test Webmail'" /etc/roundcube/config.inc.php || \
  printf "\$config['product_name'] = 'Example Test Webmail';\n" >> /etc/roundcube/config.inc.php
# Debian ships the /roundcube alias commented out: the admin turned it on
sed -i 's|^#\s*Alias /roundcube |    Alias /roundcube |' /etc/roundcube/apache.conf
grep -q '^    Alias /roundcube ' /etc/roundcube/apache.conf
a2disconf serve-cgi-bin  # the package enables it; the admin did not want it
[ -e /etc/apache2/conf-enabled/roundcube.conf ] || a2enconf roundcube
apache2ctl configtest 2>&1 || true

echo "seed: mailstat, a service on its own system account"
adduser --system --group --home /var/lib/mailstat mailstat
chmod 0750 /var/lib/mailstat
install -d -m 0755 /opt/mailstat /etc/mailstat
cp "$SEED_DIR/mailstat.py" /opt/mailstat/mailstat.py; chmod 0755 /opt/mailstat/mailstat.py
printf '[server]\nport = 8140\nsite = mail.example.test\n\n[alerts]\n# canary secret: never in evacuate artifacts\ntoken = canary-mailstat-61b9d0\n' \
  > /etc/mailstat/mailstat.conf
chown root:mailstat /etc/mailstat/mailstat.conf; chmod 0640 /etc/mailstat/mailstat.conf
cp "$SEED_DIR/mailstat.service" /etc/systemd/system/
systemctl enable mailstat.service opendkim.service redis-server.service 2>&1

echo "seed: cron"
printf 'MAILTO=anna\n0 4 * * * /usr/sbin/postqueue -f\n' | crontab -u root -
printf '15 7 * * 1 /home/anna/bin/mailbox-size.sh\n' | crontab -u anna -
printf 'SHELL=/bin/sh\n*/30 * * * * mailstat /usr/bin/python3 /opt/mailstat/mailstat.py --report > /dev/null\n' \
  > /etc/cron.d/mailstat
chmod 0644 /etc/cron.d/mailstat

echo "seed: data trees with hidden directories"
install -d -m 0755 /srv/exports /srv/exports/.cache /srv/exports/.history
printf 'mailbox,messages\nanna,8\nben,5\n' > /srv/exports/.cache/summary.csv
printf '2024-01: 1200 mails\n2024-02: 1315 mails\n' > /srv/exports/.history/volume.txt
printf 'exports of the mail statistics\n' > /srv/exports/README

echo "seed: a third-party apt repository (signed) and its package"
GNUPGHOME=$(mktemp -d); export GNUPGHOME
gpg --batch --quiet --passphrase '' --quick-gen-key \
  'Example Tools Archive <archive@tools.example.test>' ed25519 sign never
REPO="$SEED_DIR/repos/thirdparty"
install -d "$REPO/pool/main" "$REPO/dists/stable/main/binary-amd64" /tmp/pkg/DEBIAN /tmp/pkg/usr/bin
printf 'Package: example-tools\nVersion: 1.2.0\nArchitecture: all\nMaintainer: Example Tools <archive@tools.example.test>\nSection: admin\nPriority: optional\nDescription: mail statistics helpers from a third-party repository\n' \
  > /tmp/pkg/DEBIAN/control
printf '#!/bin/sh\necho "example-tools 1.2.0"\n' > /tmp/pkg/usr/bin/example-tools
chmod 0755 /tmp/pkg/usr/bin/example-tools
dpkg-deb --root-owner-group --build /tmp/pkg "$REPO/pool/main/example-tools_1.2.0_all.deb" >/dev/null
(
  cd "$REPO"
  for deb in pool/main/*.deb; do
    dpkg-deb -f "$deb"
    printf 'Filename: %s\nSize: %s\nSHA256: %s\n\n' "$deb" "$(stat -c %s "$deb")" "$(sha256sum "$deb" | cut -d' ' -f1)"
  done > dists/stable/main/binary-amd64/Packages
  cd dists/stable
  {
    printf 'Origin: Example Tools\nLabel: Example Tools\nSuite: stable\nCodename: stable\n'
    printf 'Date: %s\nArchitectures: amd64\nComponents: main\nSHA256:\n' "$(date -R -u)"
    printf ' %s %s main/binary-amd64/Packages\n' "$(sha256sum main/binary-amd64/Packages | cut -d' ' -f1)" \
      "$(stat -c %s main/binary-amd64/Packages)"
  } > Release
  gpg --batch --quiet --yes --clearsign -o InRelease Release
  gpg --batch --quiet --yes --armor --detach-sign -o Release.gpg Release
)
install -d -m 0755 /etc/apt/keyrings
gpg --batch --export 'archive@tools.example.test' > /etc/apt/keyrings/example-tools.gpg
chmod 0644 /etc/apt/keyrings/example-tools.gpg
cat > /etc/apt/sources.list.d/example-tools.sources <<'EOF'
Types: deb
URIs: http://apt.lab.test/thirdparty
Suites: stable
Components: main
Signed-By: /etc/apt/keyrings/example-tools.gpg
EOF
# apt fetches it once over HTTP, as it would on the real server (the lab serves the
# repository at apt.lab.test on the bridge; here the build's loopback stands in)
cp /etc/hosts /tmp/hosts.orig
printf '127.0.0.1\tapt.lab.test\n' >> /etc/hosts
python3 -m http.server 80 --bind 127.0.0.1 --directory "$SEED_DIR/repos" >/dev/null 2>&1 &
HTTP_PID=$!
wait_for "the repository server" 'python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 80), 1)" 2>/dev/null'
apt-get update -o Dir::Etc::SourceList=/dev/null -o APT::Get::List-Cleanup=0 2>&1
apt-get install -y --no-install-recommends -o Dir::Etc::SourceList=/dev/null example-tools 2>&1
kill "$HTTP_PID"
cp /tmp/hosts.orig /etc/hosts
rm -rf "$GNUPGHOME" /tmp/pkg /tmp/hosts.orig
example-tools

echo "seed: done"
