#!/bin/sh
# Summarise the notes into the worker's own volume whenever their count changes.
trap 'exit 0' TERM INT
while :; do
  line="notes: $(wc -l < /data/notes.txt 2>/dev/null || echo 0)"
  [ "$(cat /state/summary.txt 2>/dev/null)" = "$line" ] || echo "$line" > /state/summary.txt
  sleep "${SUMMARY_EVERY:-5}" & wait $!
done
