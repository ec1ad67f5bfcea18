# Fact family sources_apk: see evacuate/inventory/facts/sources_other.py.
[ -f /etc/apk/repositories ] || exit 0
evac_part file /etc/apk/repositories
cat /etc/apk/repositories
evac_has sha256sum && evac_has base64 || exit 0
for k in /etc/apk/keys/*; do
  [ -f "$k" ] || continue
  evac_part keyring "$(sha256sum < "$k" | cut -d' ' -f1) $k"
  base64 < "$k"
done
:
