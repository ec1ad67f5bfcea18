"""Container images through the store: each local image saved once per id (a later snapshot
refers to the same blob, saving nothing), pullable ones left to their registry, one that
cannot be saved named in a warning; loaded on the target byte for byte and tagged again.
A fake engine CLI on PATH stands in for Podman (LocalTransport runs real sh)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from evacuate.engines.container_cli import container_cli
from evacuate.inventory.model import ContainerImage, Containers
from evacuate.rebuild.containers import load_image
from evacuate.snapshot.images import save_images
from evacuate.snapshot.manifest import SnapshotManifest, Totals
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.store.memory import MemoryStore
from evacuate.transport.local import LocalTransport

FAKE = """#!/bin/sh
d={dir}
echo "$*" >> "$d/calls"
case "$1" in
  save) shift; [ "$1" = --format ] && shift 2
        [ "$1" = localhost/broken:1 ] && {{ echo "Error: broken layer" >&2; exit 125; }}
        printf 'archive of %s' "$1" ;;
  load) cat > "$d/loaded" ;;
  image) [ -f "$d/loaded" ] ;;
  tag) ;;
esac
"""


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").write_text(FAKE.format(dir=tmp_path))
    (bin_dir / "podman").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return tmp_path


FOUND = Containers(engine="podman", version="4.3.1", images=(
    ContainerImage("aa" * 32, ("localhost/shop/web:1", "localhost/shop/web:latest"), (), 10),
    ContainerImage("bb" * 32, ("docker.io/library/redis:7",), ("docker.io/library/redis@sha256:1",),
                   20, local=False),
    ContainerImage("cc" * 32, ("localhost/broken:1",), (), 30),
))


def _manifest(images: tuple) -> SnapshotManifest:  # type: ignore[type-arg]
    return SnapshotManifest(id="S1", host="h", created="", tool_version="", roots=(), excludes=(),
                            files=(), dumps=(), inventory={}, totals=Totals(), images=images)


def test_local_images_are_saved_once_per_id_and_loaded_back(engine: Path) -> None:
    blobs, source = BlobStore(MemoryStore(), None), LocalTransport()
    images, warnings = save_images(source, blobs, FOUND, None)
    assert [(i.id, i.tags) for i in images] == [("aa" * 32, FOUND.images[0].tags)]
    assert warnings == [f"container image localhost/broken:1 ({'cc' * 6}) could not be saved "
                        "(exit 125): Error: broken layer"]
    with blobs.open_blob(images[0].blob) as content:
        assert content.read() == b"archive of localhost/shop/web:1"
    (engine / "calls").unlink()
    again, _ = save_images(source, blobs, replace(FOUND, images=FOUND.images[:1]),
                           _manifest(images))
    assert again[0].blob == images[0].blob and again[0].saved_in == "S1"
    assert not (engine / "calls").exists()  # nothing was saved again

    assert load_image(LocalTransport(), blobs, images[0]) is True
    assert (engine / "loaded").read_bytes() == b"archive of localhost/shop/web:1"
    calls = (engine / "calls").read_text().splitlines()
    assert calls[-2:] == [f"tag {'aa' * 32} localhost/shop/web:1",
                          f"tag {'aa' * 32} localhost/shop/web:latest"]
    assert load_image(LocalTransport(), blobs, images[0]) is False  # the target has it


def test_compose_is_brought_up_under_the_sources_project_name() -> None:
    assert container_cli("podman").compose_up("shop") == "podman-compose -p shop up -d"
    assert "docker compose -p 'my app' up -d" in container_cli("docker").compose_up("my app")
