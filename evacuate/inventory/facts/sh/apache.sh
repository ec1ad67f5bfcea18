# Fact family apache: see evacuate/inventory/facts/apache.py.
[ -d /etc/apache2 ] || [ -d /etc/httpd ] || exit 0
for f in /etc/apache2/apache2.conf /etc/apache2/ports.conf /etc/apache2/sites-enabled/* \
         /etc/apache2/conf-enabled/*.conf /etc/httpd/conf/httpd.conf /etc/httpd/conf.d/*.conf; do
  [ -f "$f" ] || continue
  printf '# configuration file %s:\n' "$f"
  cat "$f"
  echo
done
:
