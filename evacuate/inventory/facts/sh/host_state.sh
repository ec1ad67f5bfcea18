# Fact family host_state: what a package install does not reproduce and is not a file
# to copy: generated locales, where each installed package came from (apt), and file
# attributes (immutable, append-only). Read-only.
evac_part locale-gen
[ -f /etc/locale.gen ] && grep -E '^[[:space:]]*[^#[:space:]]' /etc/locale.gen
evac_part locale-default
[ -f /etc/default/locale ] && grep -E '^[[:space:]]*[A-Z_]+=' /etc/default/locale
if evac_has apt-cache; then
  # an empty cache path keeps apt's binary cache in memory: apt never rewrites the host's
  nocache='-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache='
  evac_part apt-files
  # shellcheck disable=SC2086
  apt-cache $nocache policy 2>/dev/null
  evac_part apt-base
  # shellcheck disable=SC2086
  apt-cache $nocache policy base-files 2>/dev/null
  # shellcheck disable=SC2086
  manual=$(apt-mark $nocache showmanual 2>/dev/null | tr '\n' ' ')
  if [ -n "$manual" ]; then
    evac_part apt-manual
    # shellcheck disable=SC2086  # one word per package name
    apt-cache $nocache policy $manual 2>/dev/null
  fi
  if evac_has apt; then
    evac_part apt-local
    # shellcheck disable=SC2086
    apt $nocache list --installed 2>/dev/null | grep -F ',local]'
  fi
  evac_part apt-cached
  for f in /var/cache/apt/archives/*.deb; do
    [ -f "$f" ] && printf '%s\n' "${f##*/}"
  done
fi
if evac_has lsattr; then
  evac_part attributes
  # only the flags that change what root can do to a file: i (immutable), a (append only)
  for d in /etc /srv /var/www /var/lib /var/spool /home /root /opt /usr/local; do
    [ -d "$d" ] || continue
    if evac_has timeout; then timeout 30 lsattr -R -a "$d" 2>/dev/null
    else lsattr -R -a "$d" 2>/dev/null; fi
  done | awk '$1 ~ /^[-a-zA-Z]+$/ && $1 ~ /[ia]/ && NF >= 2 && $0 !~ /\/\.\.?$/'
fi
:
