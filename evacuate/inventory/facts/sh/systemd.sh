# Fact family systemd: see evacuate/inventory/facts/systemd.py. Every installed service,
# timer and socket unit file; the loaded ones' properties; the files under /etc.
evac_has systemctl || exit 0
evac_part unit-files
systemctl list-unit-files --no-legend --no-pager --type=service,timer,socket 2>/dev/null
evac_part show
if [ -d /run/systemd/system ]; then
  systemctl show --no-pager \
    -p Id,Description,LoadState,ActiveState,SubState,UnitFileState,FragmentPath,\
DropInPaths,User,ExecStart,Triggers,Listen,TimersCalendar,TimersMonotonic \
    '*.service' '*.timer' '*.socket' 2>/dev/null
fi
evac_part local-files
find /etc/systemd/system /usr/local/lib/systemd/system -type f 2>/dev/null
:
