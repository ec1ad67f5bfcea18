# Fact family packages_deb: see evacuate/inventory/facts/packages_deb.py.
evac_has dpkg-query || exit 0
evac_part dpkg
dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n' || exit 1
evac_part extended-states
cat /var/lib/apt/extended_states 2>/dev/null
:
