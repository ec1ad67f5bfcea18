"""Conffile diffs: real .debs built by dpkg-deb (each compression dpkg offers), a real flat
repository indexed by dpkg-scanpackages and served over HTTP, and the host script run for
real (LocalTransport) against files and an apt cache in a temporary directory."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.inventory.conffile_diffs import (
    Downloader,
    archives,
    collect_diffs,
    deb_member,
    mirror_repository,
    parse_packages_index,
    redact,
    unified_diff,
)
from evacuate.inventory.model import ChangedConffile, HostInventory, Package, Repository
from evacuate.transport.local import LocalTransport

SHIPPED = b"user www-data;\nworker_processes auto;\n\t# server_tokens off;\n"
EDITED = b"user www-data;\nworker_processes 4;\n\tserver_tokens off;\n"

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


def build_deb(folder: Path, conffile: str, content: bytes, compression: str = "xz",
              version: str = "1:1.0-1") -> Path:
    """A real .deb of package 'democonf' shipping ``conffile`` with ``content``."""
    tree = folder / f"tree-{compression}-{hashlib.md5(content).hexdigest()[:6]}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: democonf\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@t>\n"
        "Description: demo\n")
    target = tree / conffile.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    (tree / "DEBIAN" / "conffiles").write_text(conffile + "\n")
    deb = folder / f"democonf_{version.replace(':', '%3a')}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(tree),
                    str(deb)], check=True, capture_output=True)
    return deb


def inventory_for(path: str, actual: bytes, shipped: bytes = SHIPPED) -> HostInventory:
    conffile = ChangedConffile(path=path, package="democonf",
                               expected_md5=hashlib.md5(shipped).hexdigest(),
                               actual_md5=hashlib.md5(actual).hexdigest())
    return HostInventory(host="h", collected_at="2026-12-02T00:00:00Z",
                         packages=(Package("democonf", "1:1.0-1", "all"),
                                   Package("base-files", "12.4", "amd64")),
                         changed_conffiles=(conffile,))


@needs_dpkg
@pytest.mark.parametrize("compression", ["xz", "gzip", "none", "zstd"])
def test_deb_member_reads_every_compression_dpkg_builds(tmp_path: Path, compression: str) -> None:
    if compression == "zstd" and shutil.which("zstd") is None:
        pytest.fail("zstd not installed ('make deps' installs it)")
    deb = build_deb(tmp_path, "/etc/demo/demo.conf", SHIPPED, compression).read_bytes()
    assert deb_member(deb, "/etc/demo/demo.conf") == SHIPPED
    assert deb_member(deb, "/etc/demo/other.conf") is None
    with pytest.raises(ValueError, match=r"not a \.deb"):
        deb_member(b"PK\x03\x04 a zip", "/etc/demo/demo.conf")


def test_the_diff_is_unified_and_redacts_secret_values() -> None:
    shipped = b"proxy_pass http://app;\ndb_password = old\nAuthPass hunter2\nkeep\n"
    current = b"proxy_pass http://app2;\ndb_password = s3cr3t\nAuthPass hunter3\nkeep\nnew"
    diff, note = unified_diff("/etc/x.conf", shipped, current, "from somewhere")
    assert diff is not None and note == "from somewhere"
    assert diff.startswith("--- /etc/x.conf (shipped)\n+++ /etc/x.conf (on the host)\n")
    assert "+proxy_pass http://app2;\n" in diff  # nginx's proxy_pass is not a secret
    assert "s3cr3t" not in diff and "hunter" not in diff and "old" not in diff
    assert "+new\n\\ No newline at end of file\n" in diff
    same, note = unified_diff("/etc/x.conf", b"token: a\n", b"token: b\n", "here")
    assert same == "" and "redacted" in note
    assert unified_diff("/etc/x", b"a\0b", b"a", "here") == (None, "binary file: no diff")
    assert redact("password=abc") == "password=<redacted>"
    assert redact("  client_secret: 'xyz'") == "  client_secret: <redacted>"


@needs_dpkg
def test_the_host_script_diffs_against_the_deb_in_the_apt_cache(tmp_path: Path,
                                                                 conf: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    build_deb(cache, str(conf), SHIPPED)
    result = collect_diffs(LocalTransport(), inventory_for(str(conf), EDITED), cache=str(cache))
    (changed,) = result.changed_conffiles
    assert changed.diff_note == "shipped version from the host's apt cache " \
                                "(democonf_1%3a1.0-1_all.deb)"
    assert changed.diff is not None
    assert "\n-worker_processes auto;\n-\t# server_tokens off;\n+worker_processes 4;\n" \
           "+\tserver_tokens off;\n" in changed.diff

    # a cached .deb of another build (its file is not the one dpkg recorded) is not used
    other = inventory_for(str(conf), EDITED, shipped=b"something else\n")
    (changed,) = collect_diffs(LocalTransport(), other, cache=str(cache)).changed_conffiles
    assert changed.diff is None and "--fetch-defaults" in changed.diff_note

    conf.unlink()
    (changed,) = collect_diffs(LocalTransport(), inventory_for(str(conf), EDITED),
                               cache=str(cache)).changed_conffiles
    assert changed.diff is None and changed.diff_note == "unreadable on the host"


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "etc" / "demo.conf"
    path.parent.mkdir()
    path.write_bytes(EDITED)
    return path


@pytest.fixture
def flat_repo(tmp_path: Path, conf: Path) -> Iterator[tuple[str, Path]]:
    """A flat repository shipping ``conf``, with dpkg-scanpackages' index, over HTTP."""
    repo = tmp_path / "repo"
    repo.mkdir()
    build_deb(repo, str(conf), SHIPPED)
    index = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=repo,
                           capture_output=True, check=True).stdout
    (repo / "Packages").write_bytes(index)
    server, url = serve(repo)
    try:
        yield url, repo
    finally:
        server.shutdown()


def test_missing_defaults_are_downloaded_from_a_mirror(tmp_path: Path, conf: Path,
                                                       flat_repo: tuple[str, Path]) -> None:
    url, repo = flat_repo
    index = parse_packages_index((repo / "Packages").read_text())
    (filename, sha) = index[("democonf", "1:1.0-1", "all")]
    assert filename == "./democonf_1%3a1.0-1_all.deb" and len(sha) == 64

    no_cache = str(tmp_path / "no-cache")
    downloader = Downloader(archives([mirror_repository(f"{url} ./")], "amd64"))
    (changed,) = collect_diffs(LocalTransport(), inventory_for(str(conf), EDITED),
                               downloader=downloader, cache=no_cache).changed_conffiles
    assert changed.diff_note == f"shipped version from {url}/democonf_1%253a1.0-1_all.deb"
    assert changed.diff is not None and "+\tserver_tokens off;\n" in changed.diff
    assert downloader.problems == []

    # a .deb that does not match its index is refused, and so is an unreachable mirror
    (repo / "democonf_1%3a1.0-1_all.deb").write_bytes(b"!<arch>\ntampered")
    downloader = Downloader(archives([mirror_repository(f"{url} ./"),
                                      mirror_repository("http://127.0.0.1:9 ./")], "amd64"))
    (changed,) = collect_diffs(LocalTransport(), inventory_for(str(conf), EDITED),
                               downloader=downloader, cache=no_cache).changed_conffiles
    assert changed.diff is None and "neither the apt cache nor the repositories" in \
        changed.diff_note
    assert any("SHA256 differs from its index" in p for p in downloader.problems)
    assert any(p.startswith("http://127.0.0.1:9/Packages") for p in downloader.problems)


def test_archives_cover_flat_and_dists_repositories_and_mirror_text() -> None:
    found = archives([Repository("deb", ("http://deb.debian.org/debian/",), ("bookworm",),
                                 ("main", "contrib")),
                      Repository("deb", ("http://10.0.0.1:8766/bookworm",), ("./",)),
                      Repository("deb-src", ("http://x/",), ("bookworm",), ("main",))], "amd64")
    assert [a.index for a in found] == [
        "http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/Packages",
        "http://deb.debian.org/debian/dists/bookworm/contrib/binary-amd64/Packages",
        "http://10.0.0.1:8766/bookworm/Packages"]
    assert found[0].base == "http://deb.debian.org/debian"
    assert found[2].base == "http://10.0.0.1:8766/bookworm"
    assert mirror_repository("deb http://m/debian bookworm main").components == ("main",)
    with pytest.raises(ValueError, match="not a mirror"):
        mirror_repository("bookworm")
