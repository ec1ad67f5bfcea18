"""Device nodes and user extended attributes survive snapshot and restore: the nodes with
their type, major/minor numbers, mode and owner, the attributes with their exact bytes.
A source with no tool to read extended attributes (neither getfattr nor python3) says so
in a warning and is not changed (nothing is installed on it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from evacuate.actions.snapshot import snapshot_host
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab.lab import Lab
from evacuate.snapshot.manifest import SnapshotManifest
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.restore import restore_tree
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec
from evacuate.transport.base import CommandResult, RemoteProcess, Transport

SEED = r"""
set -e
rm -rf /srv/special && mkdir -p /srv/special/dir && cd /srv/special
mknod chardev c 1 3 && chmod 0620 chardev && chown 1234:1235 chardev
mknod blockdev b 7 12 && chmod 0640 blockdev && chown bob blockdev
mknod rootdev c 1 5 && chmod 0600 rootdev
echo data > tagged.txt && echo odd > "$(printf 'odd\nname=caf\351')"
python3 - <<'EOF'
import os
os.setxattr("tagged.txt", "user.origin", b"lab-source")
os.setxattr("tagged.txt", "user.binary", bytes(range(256)))
os.setxattr("tagged.txt", "user.empty", b"")
os.setxattr("dir", "user.on-a-dir", b"1")
os.setxattr(b"odd\nname=caf\xe9", "user.odd=name", b"\n=\\")
EOF
"""

# Every entry under the root: name, type, mode, owner, device numbers, user xattrs.
LISTING = r"""
import os, stat, sys
root = os.fsencode(sys.argv[1])
for top, dirs, files in sorted(os.walk(root)):
    for name in sorted(dirs + files):
        path = os.path.join(top, name)
        st = os.lstat(path)
        dev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if stat.S_ISCHR(st.st_mode) or \
            stat.S_ISBLK(st.st_mode) else None
        attrs = sorted((n, os.getxattr(path, n, follow_symlinks=False))
                       for n in os.listxattr(path, follow_symlinks=False) if n.startswith("user."))
        print(repr((os.path.relpath(path, root), oct(st.st_mode), st.st_uid, st.st_gid, dev,
                    attrs)))
"""


class NoMknod:
    """A transport whose commands run in a user namespace, where mknod is refused (as in
    some containers) while root keeps its own files."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.name = inner.name

    @staticmethod
    def _wrap(command: str | list[str]) -> list[str]:
        jail = ["unshare", "--user", "--map-root-user"]
        return [*jail, "sh", "-c", command] if isinstance(command, str) else [*jail, *command]

    def run(self, command: str | list[str], **options: Any) -> CommandResult:
        return self.inner.run(self._wrap(command), **options)

    def open_process(self, command: str | list[str]) -> RemoteProcess:
        return self.inner.open_process(self._wrap(command))


def _listing(lab: Lab, host: str, root: str) -> list[str]:
    with lab.open(host) as transport:
        return transport.run(["python3", "-c", LISTING, root], timeout=60,
                             check=True).text.splitlines()


def _snapshot(lab: Lab, repo: SnapshotRepository) -> SnapshotManifest:
    options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
    ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
    return snapshot_host(ref, options, repo, None)


def test_device_nodes_and_user_xattrs_survive_snapshot_and_restore(
        lab: Lab, tmp_path: Path) -> None:
    repo = open_repository(None, StateDir(tmp_path / "state"), create=True)
    try:
        with lab.open("lab-source") as source:
            source.run(SEED, timeout=60, check=True)
        want = _listing(lab, "lab-source", "/srv/special")
        assert any("chardev" in line and "(1, 3)" in line for line in want)
        assert any("user.odd=name" in line for line in want)

        manifest = _snapshot(lab, repo)
        devices = {e.path: e for e in manifest.files if e.kind in ("char", "block")}
        assert devices["/srv/special/chardev"].rdev == "1:3"
        assert devices["/srv/special/blockdev"].rdev == "7:12"
        assert manifest.xattrs is not None
        assert not any("/srv/special" in w for w in manifest.warnings)
        with lab.open("lab-target") as target:
            target.run("rm -rf /special-restore", check=True)
            result = restore_tree(manifest, repo.blobs, target, "/special-restore",
                                  select=lambda e: e.path.startswith("/srv/special"))
        assert result.skipped == []
        assert _listing(lab, "lab-target", "/special-restore/srv/special") == want

        # a target that refuses mknod (here: tar in a user namespace): the other entries are
        # restored and one warning counts the device nodes left out
        wanted = {"/srv/special", "/srv/special/rootdev", "/srv/special/tagged.txt"}
        with lab.open("lab-target") as target:
            target.run("rm -rf /special-restore", check=True)
            refused = restore_tree(manifest, repo.blobs, cast(Transport, NoMknod(target)),
                                   "/special-restore", select=lambda e: e.path in wanted)
            assert refused.skipped == [f"{target.name}: 1 of 1 device nodes not created: "
                                       "tar: srv/special/rootdev: Cannot mknod: Operation "
                                       "not permitted"]
            assert target.run("cat /special-restore/srv/special/tagged.txt", check=True
                              ).text == "data\n"
            assert not target.run("test -e /special-restore/srv/special/rootdev").ok

        # no getfattr (the lab source has none) and no python3: a warning, nothing installed
        with lab.open("lab-source") as source:
            source.run("chmod 0 \"$(readlink -f /usr/bin/python3)\"", check=True)
        again = _snapshot(lab, repo)
        assert again.xattrs is None
        assert any("neither getfattr" in w and "extended attributes" in w
                   for w in again.warnings)
        with lab.open("lab-source") as source:
            assert not source.run("command -v getfattr", timeout=30).ok
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")
