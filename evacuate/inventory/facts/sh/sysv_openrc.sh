# Fact family sysv_openrc: see evacuate/inventory/facts/sysv_openrc.py.
# under systemd, sysv scripts appear as generated units in the systemd section
if [ -d /run/systemd/system ] && ! evac_has rc-update; then exit 0; fi
if evac_has rc-update; then
  evac_part rc-update
  rc-update show -v 2>/dev/null
  evac_part rc-status
  rc-status --all 2>/dev/null
  exit 0
fi
if [ -d /etc/rc2.d ] || [ -d /etc/rc.d/rc3.d ]; then
  evac_part rc-links
  ls -1 /etc/rc2.d /etc/rc3.d /etc/rc.d/rc3.d 2>/dev/null
  if evac_has service; then
    evac_part status-all
    service --status-all 2>/dev/null
  fi
fi
:
