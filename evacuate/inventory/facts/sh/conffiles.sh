# Fact family conffiles: see evacuate/inventory/facts/conffiles.py.
evac_has dpkg-query || exit 0
evac_part conffiles
dpkg-query -W -f='${Package}\n${Conffiles}\n' || exit 1
evac_part md5sum
dpkg-query -W -f='${Conffiles}\n' | awk '$1 ~ /^\// && $3 != "obsolete" {print $1}' \
  | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done \
  | tr '\n' '\0' | xargs -0 -r md5sum 2>/dev/null
:
