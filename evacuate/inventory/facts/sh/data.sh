# Fact family data: the state trees whose content moves whole (see evacuate.snapshot.exclusion,
# rule data), each with its size and number of files, every measurement time-boxed.
evac_to() { if evac_has timeout; then timeout @TIMEOUT@ "$@"; else "$@"; fi; }
skip=" @SKIP@ "
candidates="@CANDIDATES@"
# shellcheck disable=SC2086 # the candidates are globs, split and expanded on purpose
for d in $candidates; do
  if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
  case "$skip" in *" $d "*) continue ;; esac
  size=$(evac_to du -skx "$d" 2>/dev/null | cut -f1)
  count=$(evac_to find "$d" -xdev -type f 2>/dev/null | wc -l)
  printf '%s\t%s\t%s\n' "${size:--}" "${count:--}" "$d"
done
:
