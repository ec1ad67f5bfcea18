# Fact family sysctl: the admin's sysctl files and each key's current value.
for f in /etc/sysctl.conf /etc/sysctl.d/*.conf; do
  [ -f "$f" ] || continue
  evac_part file "$f"
  cat "$f"
done
evac_has sysctl || exit 0
evac_part current
cat /etc/sysctl.conf /etc/sysctl.d/*.conf 2>/dev/null \
  | sed -n 's/^[[:space:]]*-\{0,1\}\([A-Za-z0-9_.\/-]*\)[[:space:]]*=.*/\1/p' | sort -u \
  | while IFS= read -r k; do
      v=$(sysctl -n "$k" 2>/dev/null) && printf '%s = %s\n' "$k" "$v"
    done
:
