# Fact family os: see evacuate/inventory/facts/osinfo.py.
evac_part os-release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
evac_part uname
printf 'kernel=%s\narch=%s\n' "$(uname -r)" "$(uname -m)"
evac_part host
printf 'hostname=%s\n' "$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
printf 'fqdn=%s\n' "$(hostname -f 2>/dev/null)"
evac_part time
if [ -r /etc/timezone ]; then printf 'timezone=%s\n' "$(cat /etc/timezone)"; fi
if [ -L /etc/localtime ]; then printf 'localtime=%s\n' "$(readlink /etc/localtime)"; fi
evac_part locale
cat /etc/default/locale 2>/dev/null || cat /etc/locale.conf 2>/dev/null
evac_part init
printf 'pid1=%s\n' "$(cat /proc/1/comm 2>/dev/null)"
if [ -d /run/systemd/system ]; then echo 'systemd_booted=1'; fi
if evac_has systemctl; then echo 'has_systemctl=1'; fi
if evac_has openrc || evac_has rc-status; then echo 'has_openrc=1'; fi
:
