# Fact family sources_apt: see evacuate/inventory/facts/sources_apt.py.
[ -d /etc/apt ] || exit 0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  evac_part file "$f"
  cat "$f"
done
evac_has sha256sum && evac_has base64 || exit 0
{
  ls -d /etc/apt/keyrings/* /etc/apt/trusted.gpg.d/* /etc/apt/trusted.gpg 2>/dev/null
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE '(signed-by=|Signed-By:[[:space:]]*)/[^] ,]+' \
    | sed -E 's/^(signed-by=|Signed-By:[[:space:]]*)//'
} | sort -u | while IFS= read -r k; do
  [ -f "$k" ] || continue
  [ "$(wc -c < "$k")" -le 262144 ] || continue
  evac_part keyring "$(sha256sum < "$k" | cut -d' ' -f1) $k"
  base64 < "$k"
done
:
