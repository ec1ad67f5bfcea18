#!/bin/sh
# df-nearest PATH...: for each PATH, the nearest directory that exists (a tree the restore
# creates lands on the file system of its parent), then one `df -P -k` over all of them, in
# order (evacuate/rebuild/space.py runs it as: sh -c "<this file>" df-nearest PATH...).
n=$#
for p do
  while [ ! -e "$p" ] && [ "$p" != / ]; do
    p=$(dirname -- "$p")
  done
  set -- "$@" "$p"
done
shift "$n"
exec df -P -k -- "$@"
