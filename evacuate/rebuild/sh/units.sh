#!/bin/sh
# What Ansible's systemd_service module does to one unit, done to all the given units with
# one systemctl call (systemd runs the jobs side by side, in the order their dependencies
# ask), for the services role. Run as root on the target:
#
#     units.sh enable UNIT...    enable the units that are not enabled
#     units.sh start UNIT...     start the units that are not active (or activating)
#     units.sh restart UNIT...   restart them; a socket is only started when it is not active
#
# Prints each unit it acted on, one per line (nothing: nothing changed). As the module:
# "enabled" is what `systemctl is-enabled` answers with status 0 (enabled, static,
# generated, ...) except "indirect" and "alias". A unit systemctl cannot act on (masked,
# missing, failing to start) fails the call with systemctl's own message.
set -eu

[ "$#" -ge 1 ] || { echo "usage: units.sh enable|start|restart UNIT..." >&2; exit 2; }
action=$1
shift

todo=""
restart=""
for unit in "$@"; do
    case $action in
    enable)
        if state=$(systemctl is-enabled "$unit" 2>/dev/null); then
            case $state in indirect | alias) ;; *) continue ;; esac
        fi
        todo="$todo $unit"
        ;;
    start | restart)
        if [ "$action" = restart ] && [ "${unit%.socket}" = "$unit" ]; then
            restart="$restart $unit"
            continue
        fi
        case $(systemctl show --property=ActiveState --value "$unit") in
        active | activating | reloading) ;;
        *) todo="$todo $unit" ;;
        esac
        ;;
    *)
        echo "units.sh: unknown action '$action' (enable, start or restart)" >&2
        exit 2
        ;;
    esac
done

verb=$action
[ "$action" = restart ] && verb=start
# shellcheck disable=SC2086  # unit names have no blanks (systemd refuses them)
[ -z "$todo" ] || systemctl "$verb" $todo
# shellcheck disable=SC2086
[ -z "$restart" ] || systemctl restart $restart
for unit in $todo $restart; do
    echo "$unit"
done
