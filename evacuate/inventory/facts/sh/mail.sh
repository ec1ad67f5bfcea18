# Fact family mail: Maildir folders (in users' homes and the usual mail roots) with their
# message counts, Postfix's SMTP banner and the size of its queue. Read-only: it counts
# directory entries and asks postconf; it never opens a mailbox through the mail server.
{
  cut -d: -f6 /etc/passwd 2>/dev/null
  printf '%s\n' /var/mail /var/vmail /var/spool/mail /srv/mail /srv/vmail
} | sort -u | while IFS= read -r root; do
  case "$root" in ''|/|/proc*|/sys*|/dev*|/run*|/nonexistent) continue ;; esac
  [ -d "$root" ] || continue
  find "$root" -xdev -maxdepth 6 -type d -name cur 2>/dev/null
done | sort -u | while IFS= read -r cur; do
  dir=${cur%/cur}
  if [ ! -d "$dir/new" ] || [ ! -d "$dir/tmp" ]; then continue; fi
  count=$(find "$dir/cur" "$dir/new" -mindepth 1 -maxdepth 1 -type f 2>/dev/null | wc -l | tr -d ' ')
  owner=$(stat -c %U "$dir" 2>/dev/null || echo '?')
  evac_part maildir "$owner" "$count"
  printf '%s\n' "$dir"
done
if evac_has postconf && [ -f /etc/postfix/main.cf ]; then
  evac_part postfix-banner
  postconf -xh smtpd_banner 2>/dev/null
  spool=$(postconf -xh queue_directory 2>/dev/null || echo /var/spool/postfix)
  evac_part postfix-queue
  for q in maildrop incoming active deferred hold; do
    if [ -d "$spool/$q" ]; then find "$spool/$q" -type f 2>/dev/null; fi
  done | wc -l
  # each queued message by meaning: its queue, envelope and size as showq tells them
  # (postqueue -j, one JSON object a line), and the sha256 of its header and body (postcat
  # -bh, the file's section markers left out): its queue id follows the file's inode, so
  # a restored message has another one
  if evac_has postqueue && evac_has postcat; then
    evac_part postfix-messages
    postqueue -j 2>/dev/null | while IFS= read -r line; do
      id=$(printf '%s\n' "$line" | sed -n 's/.*"queue_id": *"\([0-9A-Za-z]*\)".*/\1/p')
      [ -n "$id" ] || continue
      sum=$(postcat -bh -q "$id" 2>/dev/null | grep -v '^\*\*\* ' | sha256sum | cut -d' ' -f1)
      printf '%s %s\n' "$sum" "$line"
    done
  fi
  # the copies Postfix's start makes for its chroot ($spool/etc/hosts from /etc/hosts,
  # $spool/lib/... from /lib/...): generated on each host, not data
  evac_part postfix-chroot "$spool"
  for d in etc lib usr; do
    [ -d "$spool/$d" ] || continue
    find "$spool/$d" -xdev \( -type f -o -type l \) 2>/dev/null | while IFS= read -r copy; do
      [ -e "/${copy#"$spool"/}" ] && printf '%s\n' "$copy"
    done
  done
  # where Postfix keeps the state it regenerates when it starts (its lock, PRNG seed, TLS
  # session caches, pid files), as its own configuration says
  evac_part daemon-dirs postfix
  printf 'data_directory %s\n' "$(postconf -xh data_directory 2>/dev/null)"
  printf 'queue_directory %s\n' "$spool"
fi
if evac_has doveconf; then
  # Dovecot's state directory (its instance list) as its own configuration says
  state=$(doveconf -h state_dir 2>/dev/null) || state=
  if [ -n "$state" ]; then
    evac_part daemon-dirs dovecot
    printf 'state_dir %s\n' "$state"
  fi
fi
:
