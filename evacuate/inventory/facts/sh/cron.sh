# Fact family cron: see evacuate/inventory/facts/cron.py.
for f in /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* /var/spool/cron/* /etc/crontabs/*; do
  [ -f "$f" ] || continue
  case $f in *.dpkg-*|*~|*/.placeholder) continue ;; esac
  evac_part crontab "$f"
  cat "$f"
done
for p in hourly daily weekly monthly; do
  [ -d "/etc/cron.$p" ] || continue
  evac_part periodic "$p"
  for f in "/etc/cron.$p"/*; do
    [ -f "$f" ] && [ -x "$f" ] && printf '%s\n' "$f"
  done
done
:
