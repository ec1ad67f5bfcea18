# Fact family nginx: see evacuate/inventory/facts/nginx.py.
evac_has nginx || [ -d /etc/nginx ] || exit 0
if evac_has nginx && nginx -T 2>/dev/null; then exit 0; fi
for f in /etc/nginx/nginx.conf /etc/nginx/conf.d/*.conf /etc/nginx/sites-enabled/*; do
  [ -f "$f" ] || continue
  printf '# configuration file %s:\n' "$f"
  cat "$f"
  echo
done
:
