# Fact family network: see evacuate/inventory/facts/network.py.
if evac_has ip; then
  if ip -j addr show >/dev/null 2>&1; then
    evac_part addr-json; ip -j addr show
    evac_part route-json; ip -j route show
    evac_part route6-json; ip -j -6 route show 2>/dev/null
  else
    evac_part addr-text; ip -o addr show
    evac_part route-text; ip route show
  fi
fi
evac_part hosts
cat /etc/hosts 2>/dev/null
evac_part resolv
cat /etc/resolv.conf 2>/dev/null
:
