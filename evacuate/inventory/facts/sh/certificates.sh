# Fact family certificates: see evacuate/inventory/facts/certificates.py.
evac_has openssl || exit 0
{
  grep -rhE '^[[:space:]]*ssl_certificate[[:space:]]' /etc/nginx 2>/dev/null \
    | awk '{gsub(/[;"'"'"']/, "", $2); print $2}'
  grep -rhiE '^[[:space:]]*SSLCertificateFile[[:space:]]' /etc/apache2 /etc/httpd 2>/dev/null \
    | awk '{gsub(/["'"'"']/, "", $2); print $2}'
  ls -d /etc/letsencrypt/live/*/cert.pem 2>/dev/null
  for f in /etc/ssl/certs/* /etc/pki/tls/certs/*; do
    if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
    case $f in */ca-certificates.crt|*/ca-bundle.crt|*/ca-bundle.trust.crt) continue ;; esac
    printf '%s\n' "$f"
  done
} | awk '!seen[$0]++' | while IFS= read -r c; do
  [ -f "$c" ] || continue
  evac_part cert "$c"
  openssl x509 -in "$c" -noout -nameopt RFC2253 -subject -issuer -startdate -enddate \
      -ext subjectAltName 2>/dev/null \
    || { openssl x509 -in "$c" -noout -nameopt RFC2253 -subject -issuer -startdate -enddate \
           2>/dev/null \
         && openssl x509 -in "$c" -noout -text 2>/dev/null \
           | grep -A1 'X509v3 Subject Alternative Name'; }
done
:
