# Fact family sources_yum: see evacuate/inventory/facts/sources_other.py.
for f in /etc/yum.repos.d/*.repo; do
  [ -f "$f" ] || continue
  evac_part file "$f"
  cat "$f"
done
:
