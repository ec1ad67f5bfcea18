# Fact family packagefiles: package files (not conffiles) whose content differs from what
# dpkg recorded in its md5sums, and the packages that have regular files but no md5sums.
# Cost: only files whose mtime is newer than their package's install (the mtime of its
# .list, which dpkg rewrites on every install and upgrade) are read and hashed; the rest
# cost one stat (sh's -nt) each. A change that kept an older mtime (cp -p, tar x) is missed.
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
n=0
for m in "$d"/*.md5sums; do
  [ -f "$m" ] || continue
  p=${m%.md5sums}
  while read -r sum path; do
    n=$((n + 1))
    # -nt is not POSIX, but dash, bash and busybox have it (without it, nothing is hashed)
    # shellcheck disable=SC3013
    [ "/$path" -nt "$p.list" ] || continue
    if ! now=$(md5sum < "/$path" 2>/dev/null); then
      printf 'unreadable\t%s\t/%s\n' "${p##*/}" "$path"
    elif [ "${now%% *}" != "$sum" ]; then
      printf 'changed\t%s\t/%s\n' "${p##*/}" "$path"
    fi
  done < "$m"
done
printf 'checked=%s\n' "$n"
