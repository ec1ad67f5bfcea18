#!/bin/sh
# The target-side steps of carrying a PostgreSQL cluster's configuration into a newer major
# version (evacuate/rebuild/pgcarry.py runs each as: sh -c "<this file>" pgcarry STEP ARGS):
#   backup FOLDER NAME...      keep FOLDER/NAME.evacuate-orig copies of the files to replace
#   put PATH OWNER MODE        write stdin to PATH through a temporary file (its folder is
#                              made, owned by OWNER, when missing)
#   restart UNIT               restart UNIT; fail unless it is active afterwards
#   undo FOLDER CONF NAME...   put the copies back and remove CONF
#   clean FOLDER               drop the copies
set -u
step=$1
shift
case $step in
  backup)
    folder=$1
    shift
    for name in "$@"; do
      if [ -f "$folder/$name" ]; then
        cp -p "$folder/$name" "$folder/$name.evacuate-orig" || exit 1
      fi
    done
    ;;
  put)
    dir=$(dirname "$1")
    if [ ! -d "$dir" ]; then
      install -d -m 0755 "$dir" && chown "$2" "$dir" || exit 1
    fi
    cat > "$1.tmp" && chown "$2" "$1.tmp" && chmod "$3" "$1.tmp" && mv "$1.tmp" "$1"
    ;;
  restart)
    systemctl restart "$1" && systemctl is-active --quiet "$1"
    ;;
  undo)
    folder=$1
    conf=$2
    shift 2
    for name in "$@"; do
      if [ -f "$folder/$name.evacuate-orig" ]; then
        mv "$folder/$name.evacuate-orig" "$folder/$name"
      fi
    done
    rm -f "$conf"
    ;;
  clean)
    rm -f "$1"/*.evacuate-orig
    ;;
  *)
    echo "pgcarry: unknown step $step" >&2
    exit 2
    ;;
esac
