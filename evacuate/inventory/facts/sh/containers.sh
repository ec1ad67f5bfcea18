# Fact family containers: see evacuate/inventory/facts/containers.py.
# The engine is picked once: Podman when installed (Debian's podman-docker makes `docker`
# a Podman wrapper), else Docker. Both CLIs print the same `inspect` JSON.
if evac_has podman; then
  engine=podman version_format='{{.Client.Version}}' root_format='{{.Store.GraphRoot}}'
elif evac_has docker; then
  engine=docker version_format='{{.Server.Version}}' root_format='{{.DockerRootDir}}'
else
  exit 0
fi
# Podman makes (and removes) a temporary directory in $TMPDIR (/var/tmp by default) when it
# lists or inspects images: the directory's times would change on the source. /dev/shm is
# memory (tmpfs) on every Linux host.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; export TMPDIR; fi
# Secret-looking environment values never leave the host: NAME=value entries whose name
# holds a word of SECRET_WORDS (evacuate/inventory/secret_names.py: pass, secret, token, key,
# credential, auth, private), and the password of a URL.
evac_mask() {
  sed -E \
    -e 's/"([A-Za-z_][A-Za-z0-9_.-]*([Pp][Aa][Ss][Ss]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn]|[Kk][Ee][Yy]|[Cc][Rr][Ee][Dd][Ee][Nn][Tt][Ii][Aa][Ll]|[Aa][Uu][Tt][Hh]|[Pp][Rr][Ii][Vv][Aa][Tt][Ee])[A-Za-z0-9_.-]*)=([^"\\]|\\.)*"/"\1=<masked>"/g' \
    -e 's#(://[^:/@"]*):[^@/"]*@#\1:<masked>@#g'
}
# Rootless Podman: each account's own storage, read as files (podman run as the user would
# start a pause process holding its user namespace, and make a runtime directory for an
# account with no session): where containers/storage keeps it (the user's storage.conf
# graphroot, else the system's rootless_storage_path, else ~/.local/share/containers/
# storage); its containers.json and images.json (ids, names, image ids and Podman's
# metadata: image name, creation time; no environment, which libpod keeps in a database of
# its own: not read), each ended by a newline; its volumes' sizes; the account's conmon
# processes (pgrep: each names its container's id after -c).
evac_conf_value() { # KEY FILE: the first KEY = "value" of a TOML file
  [ -r "$2" ] && sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*[\"']\\([^\"']*\\)[\"'].*/\\1/p" "$2" | head -n 1
}
evac_rootless() {
  getent passwd | while IFS=: read -r user _ uid _ _ home _; do
    [ "$uid" = 0 ] && continue
    case $home in /*) [ -d "$home" ] || continue ;; *) continue ;; esac
    root=$(evac_conf_value graphroot "$home/.config/containers/storage.conf")
    if [ -z "$root" ]; then
      root=$(evac_conf_value rootless_storage_path /etc/containers/storage.conf |
        sed -e "s#\\\$HOME#$home#g" -e "s#\\\$UID#$uid#g" -e "s#\\\$USER#$user#g")
    fi
    [ -n "$root" ] || root=$home/.local/share/containers/storage
    set -- "$root"/*-containers/containers.json
    [ -f "$1" ] || continue
    evac_part rootless "$user $uid $root"
    evac_part rootless_containers "$user"
    cat -- "$@" 2>/dev/null; echo
    evac_part rootless_images "$user"
    cat -- "$root"/*-images/images.json 2>/dev/null; echo
    evac_part rootless_volumes "$user"
    for dir in "$root"/volumes/*/_data; do
      [ -d "$dir" ] && du -sk -- "$dir" 2>/dev/null
    done
    evac_part rootless_running "$user"
    pgrep -a -x -u "$uid" conmon 2>/dev/null || :
  done
}
evac_part engine "$engine"
"$engine" version --format "$version_format" 2>/dev/null
# the package the engine's CLI comes from, as dpkg says (docker.io, docker-ce, podman...)
evac_part engine_package
dpkg-query -S -- "$(command -v "$engine")" 2>/dev/null
# where the engine keeps its storage, as it says (an admin may have moved Docker's
# data-root or Podman's graphroot to a data disk: /var/lib/docker is only the default)
evac_part storage_root
"$engine" info --format "$root_format" 2>/dev/null
ids=$("$engine" ps -aq --no-trunc 2>/dev/null)
evac_part containers
# shellcheck disable=SC2086  # ids are hex words
[ -z "$ids" ] || "$engine" container inspect $ids 2>/dev/null | evac_mask
evac_part images
images=$("$engine" images -q --no-trunc 2>/dev/null | sort -u)
# shellcheck disable=SC2086
[ -z "$images" ] || "$engine" image inspect $images 2>/dev/null | evac_mask
evac_part volumes
volumes=$("$engine" volume ls -q 2>/dev/null)
# shellcheck disable=SC2086  # volume names are [A-Za-z0-9_.-] words
[ -z "$volumes" ] || "$engine" volume inspect $volumes 2>/dev/null
evac_part volume_sizes
# shellcheck disable=SC2086
[ -z "$volumes" ] || "$engine" volume inspect --format '{{.Mountpoint}}' $volumes 2>/dev/null |
  while IFS= read -r dir; do [ -d "$dir" ] && du -sk -- "$dir" 2>/dev/null; done
evac_part env_files
# shellcheck disable=SC2086
[ -z "$ids" ] || "$engine" container inspect \
  --format '{{index .Config.Labels "com.docker.compose.project.working_dir"}}' $ids 2>/dev/null |
  sort -u | while IFS= read -r dir; do
    case $dir in /*) [ -f "$dir/.env" ] && printf '%s/.env\n' "$dir" ;; esac
  done
[ "$engine" = podman ] && evac_rootless
:
