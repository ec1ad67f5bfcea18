# The files of one installed package, as a tar on stdout (read-only: writes nothing):
# first a line naming the prefix of its dpkg info files (var/lib/dpkg/info/NAME.), then a
# tar of those info files (maintainer scripts, md5sums, conffiles...) and of every path in
# its .list that exists. Arguments: package name, architecture, the info file suffixes.
p=$1; a=$2; shift 2
base="/var/lib/dpkg/info/$p:$a"
[ -f "$base.list" ] || base="/var/lib/dpkg/info/$p"
[ -f "$base.list" ] || { echo "no $base.list" >&2; exit 3; }
printf '%s\n' "${base#/}."
{
  for s in "$@"; do
    if [ -f "$base.$s" ]; then printf '%s\0' "$base.$s"; fi
  done
  while IFS= read -r f; do
    [ "$f" = "/." ] && continue
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
  done < "$base.list"
} | tar -c -f - -P --no-recursion --null -T -
r=$?
# 1: a file changed while it was read; the copy is still a package
[ "$r" -le 1 ] || exit "$r"
