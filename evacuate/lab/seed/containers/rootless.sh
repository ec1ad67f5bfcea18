#!/bin/sh
# Rootless Podman for the account alice on a booted lab-containers (the image has uidmap and
# slirp4netns; alice's uid 1001 is the first one an admin's useradd gives there). Run as
# root by tests/lab/test_rootless_lab.py. What it leaves is what an admin who tried
# rootless containers leaves: lingering (user@1001 runs), a storage.conf and containers.conf
# of alice's own (vfs, host network: nspawn gives the host no /dev/net/tun for slirp4netns),
# two images copied from root's storage, a named volume whose files alice's container owns
# as its root (host uid 1001) and as its www-data (host uid 100032), a running container
# serving that volume on :8090, one that ran and exited, one created and never started.
set -eu
useradd -m -s /bin/bash -u 1001 alice
echo alice:100000:65536 > /etc/subuid
echo alice:100000:65536 > /etc/subgid
loginctl enable-linger alice  # starts user@1001: /run/user/1001 (a tmpfs)
i=0
while [ ! -d /run/user/1001 ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
install -d -o alice -g alice -m 0755 /home/alice/.config /home/alice/.config/containers
cat > /home/alice/.config/containers/storage.conf <<'CONF'
[storage]
driver = "vfs"
CONF
cat > /home/alice/.config/containers/containers.conf <<'CONF'
[containers]
keyring = false
cgroups = "disabled"
netns = "host"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
chown alice:alice /home/alice/.config/containers/storage.conf \
  /home/alice/.config/containers/containers.conf
cd /tmp
as_alice() {
  runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1001 HOME=/home/alice "$@"
}
for image in localhost/lab/busybox:1.35 localhost/shop/web:1; do
  podman save "$image" | as_alice podman load -q
done
as_alice podman volume create notes
as_alice podman run -d --name web -v notes:/data localhost/lab/busybox:1.35 \
  sh -c 'echo hello-rootless > /data/note.txt; exec httpd -f -p 8090 -h /data'
as_alice podman run --name once localhost/lab/busybox:1.35 sh -c 'echo done-once'
as_alice podman create --name fresh localhost/shop/web:1 true
as_alice podman exec web sh -c 'dd if=/dev/zero of=/data/blob bs=1k count=512 2>/dev/null;
  mkdir -p /data/sub; echo x > /data/sub/y; chown 33:33 /data/sub/y'
