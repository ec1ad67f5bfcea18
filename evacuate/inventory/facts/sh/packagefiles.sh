# Fact family packagefiles: package files (not conffiles) whose content differs from what
# dpkg recorded in its md5sums, and the packages that have regular files but no md5sums.
# Cost: only files changed after their package's install are read and hashed: those whose
# mtime is later than their package's .list's (dpkg rewrites it on every install and
# upgrade), and those whose ctime is later than the list's mtime and ctime (a change that
# put an older mtime back, cp -p, tar x or touch -r, still sets the ctime; a chmod too).
# The rest cost one stat each, all in one find; one awk chooses.
d=/var/lib/dpkg/info
[ -d "$d" ] || exit 0
evac_part nomd5
for l in "$d"/*.list; do
  [ -f "$l" ] || continue
  p=${l%.list}
  [ -f "$p.md5sums" ] && continue
  while IFS= read -r f; do
    if [ -f "$f" ] && [ ! -L "$f" ] && ! grep -qxF -- "$f" "$p.conffiles" 2>/dev/null; then
      printf '%s\n' "${p##*/}"
      break
    fi
  done < "$l"
done
evac_part changed
tab=$(printf '\t')
set -- "$d"/*.md5sums
if [ ! -f "$1" ]; then
  printf 'checked=0\n'
  exit 0
fi
{
  find "$d" -maxdepth 1 -name '*.list' -printf 'L %T@ %C@ %f\n' 2>/dev/null
  awk '{ print "/" substr($0, index($0, "  ") + 2) }' "$@" | tr '\n' '\000' |
    xargs -0 sh -c 'find "$@" -prune -printf "F %T@ %C@ %p\n" 2>/dev/null' find
} | awk -v tab="$tab" '
  $1 == "L" { n = $4; sub(/\.list$/, "", n); lm[n] = $2 + 0; lc[n] = $3 + 0; next }
  $1 == "F" { p = substr($0, length($1 $2 $3) + 4); fm[p] = $2 + 0; fc[p] = $3 + 0; next }
  FNR == 1 { pkg = FILENAME; sub(/.*\//, "", pkg); sub(/\.md5sums$/, "", pkg) }
  {
    checked++
    path = "/" substr($0, index($0, "  ") + 2)
    if (!(path in fm)) next
    if (fm[path] > lm[pkg] || (fc[path] > lm[pkg] && fc[path] > lc[pkg]))
      print pkg tab $1 tab path
  }
  END { print "#checked" tab checked + 0 }
' - "$@" | while IFS="$tab" read -r pkg sum path; do
  if [ "$pkg" = "#checked" ]; then
    printf 'checked=%s\n' "$sum"
  elif ! now=$(md5sum < "$path" 2>/dev/null); then
    printf 'unreadable\t%s\t%s\n' "$pkg" "$path"
  elif [ "${now%% *}" != "$sum" ]; then
    printf 'changed\t%s\t%s\n' "$pkg" "$path"
  fi
done
