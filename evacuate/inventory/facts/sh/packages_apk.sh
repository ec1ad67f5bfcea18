# Fact family packages_apk: see evacuate/inventory/facts/packages_apk.py.
[ -f /lib/apk/db/installed ] || exit 0
evac_part installed
grep -E '^(P|V|A|r):|^$' /lib/apk/db/installed
evac_part world
cat /etc/apk/world 2>/dev/null
:
