# What a target offers, in one round trip: its free bytes on /, then (with apt) the
# candidate version of each package named as an argument and the name of every real
# package its lists offer. A fresh host without package lists gets them first.
df -B1 --output=avail / 2>/dev/null | tail -n 1
echo @@POLICY@@
if command -v apt-cache >/dev/null; then
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq >/dev/null 2>&1
  apt-cache policy "$@" 2>/dev/null
  echo @@NAMES@@
  # real packages only (pkgnames also lists virtual ones); lists may be compressed
  { cat /var/lib/apt/lists/*_Packages 2>/dev/null
    for f in /var/lib/apt/lists/*_Packages.lz4; do [ -e "$f" ] && lz4cat "$f"; done 2>/dev/null
  } | sed -n 's/^Package: //p' | sort -u
fi
