#!/bin/sh
# The base role's time zone and locales in one call: what its stat, file, copy, lineinfile
# and command tasks did one module run each. Run as root on the target:
#
#     base.sh [-z ZONE] [-l "LOCALE CHARSET"]... [-s KEY=VALUE]...
#
#   -z  /etc/localtime a symlink to /usr/share/zoneinfo/ZONE, /etc/timezone "ZONE"; a zone
#       that is not a file there is refused (exit 3, nothing changed)
#   -l  an /etc/locale.gen line: the last line that is it, commented or not, becomes it,
#       else it is appended; locale-gen runs when a line changed or a locale is missing
#       from `locale -a`
#   -s  an /etc/default/locale setting: the last KEY= line becomes it, else it is appended
#
# The files it writes are root's, 0644. Prints each change, one per line (nothing: nothing
# changed). BASE_ROOT (tests only) prefixes the paths it reads and writes.
set -eu

root=${BASE_ROOT:-}
zone=""
locales=""
settings=""
nl='
'
while getopts z:l:s: opt; do
    case $opt in
    z) zone=$OPTARG ;;
    l) locales="$locales$OPTARG$nl" ;;
    s) settings="$settings$OPTARG$nl" ;;
    *) echo "usage: base.sh [-z ZONE] [-l 'LOCALE CHARSET']... [-s KEY=VALUE]..." >&2; exit 2 ;;
    esac
done

# the file's owner root:root and mode 0644 (a change is printed)
owned() {
    if [ "$(stat -c '%U:%G %a' "$1")" != "root:root 644" ]; then
        chown root:root "$1"
        chmod 0644 "$1"
        echo "mode $1"
    fi
}

# put_line FILE MATCH LINE: the last line whose MATCH (awk: s, the line stripped as the
# mode says) equals LINE's becomes LINE, else LINE is appended; prints "FILE" if it changed
put_line() {
    file=$1 mode=$2 line=$3
    [ -e "$file" ] || : > "$file"
    new="$file.evacuate-new"
    awk -v mode="$mode" -v line="$line" '
        function key(text) {
            if (mode == "locale") {   # ^\s*#?\s*LINE\s*$
                sub(/^[ \t]*/, "", text); sub(/^#/, "", text); sub(/^[ \t]*/, "", text)
                sub(/[ \t]*$/, "", text)
                return text
            }
            sub(/^[ \t]*/, "", text)  # ^\s*KEY=
            return substr(text, 1, index(text, "=") > 0 ? index(text, "=") : length(text) + 1)
        }
        { lines[NR] = $0; if (key($0) == key(line)) last = NR }
        END {
            for (i = 1; i <= NR; i++) print (i == last ? line : lines[i])
            if (!last) print line
        }' "$file" > "$new"
    if cmp -s "$file" "$new"; then
        rm -f "$new"
    else
        cat "$new" > "$file"
        rm -f "$new"
        echo "$file"
    fi
    owned "$file"
}

if [ -n "$zone" ]; then
    data=/usr/share/zoneinfo/$zone
    case $zone in
    */../* | ../* | */.. | ..) echo "unknown time zone $zone" >&2; exit 3 ;;
    esac
    if [ ! -f "$root$data" ]; then
        echo "unknown time zone $zone: no $data" >&2
        exit 3
    fi
    if [ "$(readlink "$root/etc/localtime" || true)" != "$data" ]; then
        ln -sfn "$data" "$root/etc/localtime"
        echo "/etc/localtime $zone"
    fi
    if ! printf '%s\n' "$zone" | cmp -s - "$root/etc/timezone"; then
        printf '%s\n' "$zone" > "$root/etc/timezone"
        echo "/etc/timezone $zone"
    fi
    owned "$root/etc/timezone"
fi

if [ -n "$locales" ]; then
    changed=""
    while IFS= read -r entry; do
        [ -n "$entry" ] || continue
        if [ -n "$(put_line "$root/etc/locale.gen" locale "$entry" | grep -v '^mode ' || true)" ]; then
            changed=yes
        fi
    done <<EOF
$locales
EOF
    owned "$root/etc/locale.gen" >/dev/null
    [ -z "$changed" ] || echo "/etc/locale.gen"
    # the wanted locales' names as `locale -a` spells them (de_DE.UTF-8 -> de_de.utf8)
    have=$(locale -a | tr '[:upper:]' '[:lower:]')
    missing=""
    for name in $(printf '%s' "$locales" | awk '{ print tolower($1) }' | sed 's/utf-\{0,1\}8/utf8/g'); do
        printf '%s\n' "$have" | grep -qxF "$name" || missing="$missing $name"
    done
    if [ -n "$changed" ] || [ -n "$missing" ]; then
        locale-gen >/dev/null
        echo "locale-gen"
    fi
fi

while IFS= read -r setting; do
    [ -n "$setting" ] || continue
    put_line "$root/etc/default/locale" setting "$setting"
done <<EOF
$settings
EOF
