# Fact family firewall: see evacuate/inventory/facts/firewall.py.
if evac_has nft; then evac_part nft; nft list ruleset 2>/dev/null; fi
if evac_has iptables-save; then evac_part iptables; iptables-save 2>/dev/null; fi
if evac_has ip6tables-save; then evac_part ip6tables; ip6tables-save 2>/dev/null; fi
:
