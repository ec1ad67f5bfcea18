"""Hostile file trees on the source: odd names, loops, links out of the tree, special files
and deep trees are either restored faithfully or skipped with a warning, and never followed."""

from __future__ import annotations

from pathlib import Path

from evacuate.actions.snapshot import snapshot_host
from evacuate.hostref import ConnectOptions, HostRef
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.restore import restore_tree
from evacuate.snapshot.scan import decode_path
from evacuate.state import StateDir
from evacuate.transport import parse_host_spec

SEED = r"""
set -e
rm -rf /srv/hostile && mkdir -p /srv/hostile && cd /srv/hostile
printf 'newline\n' > "$(printf 'new\nline')"
printf 'quotes\n' > "it's \"quoted\""
printf 'dash\n' > ./-rf
printf 'latin1\n' > "$(printf 'caf\351')"
printf 'b64\n' > 'b64:looks-encoded'
ln -s loop-b loop-a && ln -s loop-a loop-b
ln -s /etc/passwd outside
ln -s ../../../../../../etc/shadow outside-relative
mkfifo pipe
python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('/srv/hostile/sock')"
d=deep; i=0; while [ $i -lt 60 ]; do d="$d/level$i"; i=$((i+1)); done
mkdir -p "$d" && printf 'bottom\n' > "$d/file"
"""

LISTING = ("cd {root} && find . -printf '%p|%y|%m|%U|%G|%l|' -a \\( -type f -printf '%s' -o "
           "-printf '-' \\) -printf '\\0' | sort -z && find . -type f -print0 | sort -z | "
           "xargs -0 sha256sum")


def _listing(lab: Lab, host: str, root: str) -> set[bytes]:
    with lab.open(host) as transport:
        raw = transport.run(LISTING.format(root=root), timeout=120, check=True).stdout
    return {item for item in raw.replace(b"\n", b"\0").split(b"\0") if item}


def test_hostile_tree_is_restored_faithfully_or_skipped(lab: Lab, tmp_path: Path) -> None:
    try:
        with lab.open("lab-source") as source:
            source.run(SEED, timeout=120, check=True)
        repo = open_repository(None, StateDir(tmp_path / "state"), create=True)
        options = ConnectOptions(known_hosts=lab.known_hosts, identity=lab.key)
        ref = HostRef("lab-source", parse_host_spec(lab.ssh_spec("lab-source")))
        manifest = snapshot_host(ref, options, repo, None)
        paths = {decode_path(e.path) for e in manifest.files}
        assert b"/srv/hostile/new\nline" in paths and b"/srv/hostile/caf\xe9" in paths
        assert any("sock" in w and "skipped" in w for w in manifest.warnings)
        # Links are never followed: each is recorded as a link to what it names, with no
        # content, and nothing is recorded below it (a followed link out of the tree would
        # show as a file holding /etc/passwd; a followed loop as paths through it).
        links = {"outside": "/etc/passwd", "outside-relative": "../../../../../../etc/shadow",
                 "loop-a": "loop-b", "loop-b": "loop-a"}
        by_path = {e.path: e for e in manifest.files}
        for name, target in links.items():
            link = by_path[f"/srv/hostile/{name}"]
            assert (link.kind, link.link_target, link.blob) == ("symlink", target, None), link
            assert not [p for p in by_path if p.startswith(f"/srv/hostile/{name}/")]
        with lab.open("lab-target") as target:
            target.run("rm -rf /hostile-restore", check=True)
            restore_tree(manifest, repo.blobs, target, "/hostile-restore",
                         select=lambda e: e.path.startswith("/srv/hostile"))
        want = {line for line in _listing(lab, "lab-source", "/srv/hostile")
                if b"./sock|" not in line}
        have = _listing(lab, "lab-target", "/hostile-restore/srv/hostile")
        assert want == have
    finally:
        lab.reset("lab-source")
        lab.reset("lab-target")
