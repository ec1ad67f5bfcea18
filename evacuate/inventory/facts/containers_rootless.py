"""The rootless part of the ``containers`` fact: each account's own Podman storage, read as
files by the snippet (evacuate/inventory/facts/sh/containers.sh, ``evac_rootless``), never by
running ``podman`` as that user (which starts a pause process holding the account's user
namespace, and makes a runtime directory for an account with no session).

Parts, each after ``rootless USER UID STORAGE_ROOT``: ``rootless_containers`` and
``rootless_images`` (containers/storage's ``containers.json`` and ``images.json``: ids,
names, image ids, a ``metadata`` string holding the image's name), ``rootless_volumes``
(``du -sk`` of each ``volumes/NAME/_data``) and ``rootless_running`` (``pgrep -a`` lines of
the account's conmon processes: ``-c ID`` names the container each one runs)."""

from __future__ import annotations

import itertools
import json
import posixpath
import shlex
from typing import Any

from evacuate.inventory.facts.base import Part
from evacuate.inventory.model_containers import (
    ContainerImage,
    ContainerVolume,
    RootlessContainer,
    RootlessPodman,
)


def _records(text: str) -> list[dict[str, Any]]:
    """The JSON arrays of ``text`` (one file after another), their objects."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(text, at)) < len(text):
        try:
            data, at = decoder.raw_decode(text, at)
        except ValueError:
            break
        if isinstance(data, list):
            found += [item for item in data if isinstance(item, dict)]
    return found


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _names(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _image_name(metadata: object) -> str:
    try:
        data = json.loads(metadata) if isinstance(metadata, str) and metadata else {}
    except ValueError:
        return ""
    return str(data.get("image-name") or "") if isinstance(data, dict) else ""


def _running(text: str) -> set[str]:
    """The container ids the conmon command lines name (``-c ID`` or ``--cid ID``)."""
    ids = set()
    for line in text.splitlines():
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        for flag, value in itertools.pairwise(words):
            if flag in ("-c", "--cid"):
                ids.add(value)
    return ids


def du_sizes(text: str) -> dict[str, int]:
    """``du -sk`` lines (``KiB<TAB>path``) as path → bytes."""
    sizes = {}
    for line in text.splitlines():
        kib, _, path = line.partition("\t")
        if kib.isdigit() and path:
            sizes[path] = int(kib) * 1024
    return sizes


def _volumes(text: str) -> tuple[ContainerVolume, ...]:
    volumes = [ContainerVolume(name=posixpath.basename(posixpath.dirname(path)),
                               mountpoint=path, size_bytes=size)
               for path, size in du_sizes(text).items() if path.endswith("/_data")]
    return tuple(sorted(volumes, key=lambda v: v.name))


def _one(head: Part, parts: dict[str, str]) -> RootlessPodman | None:
    user, _, rest = head.args.partition(" ")
    uid, _, root = rest.partition(" ")
    if not (user and uid.isdigit() and root.startswith("/")):
        return None
    images = tuple(sorted((ContainerImage(id=str(d.get("id", "")), tags=_names(d.get("names")),
                                          digests=(str(d["digest"]),) if d.get("digest") else (),
                                          local=True)
                           for d in _records(parts.get("rootless_images", ""))),
                          key=lambda i: (i.tags, i.id)))
    named = {i.id: i.tags[0] for i in images if i.tags}
    running = _running(parts.get("rootless_running", ""))
    containers = []
    for d in _records(parts.get("rootless_containers", "")):
        cid, image_id = str(d.get("id", "")), str(d.get("image", ""))
        names = _names(d.get("names"))
        containers.append(RootlessContainer(
            id=cid, name=names[0] if names else cid[:12], image_id=image_id,
            image=_image_name(d.get("metadata")) or named.get(image_id, ""),
            running=cid in running))
    return RootlessPodman(user=user, uid=int(uid), storage_root=root.rstrip("/") or "/",
                          containers=tuple(sorted(containers, key=lambda c: c.name)),
                          images=images, volumes=_volumes(parts.get("rootless_volumes", "")))


def parse_rootless(parts: list[Part]) -> tuple[RootlessPodman, ...]:
    """Every account's rootless Podman in the section's parts (a ``rootless`` header and the
    ``rootless_*`` parts after it)."""
    found: list[RootlessPodman] = []
    head: Part | None = None
    texts: dict[str, str] = {}
    for part in [*parts, Part("rootless", "", "")]:  # a last header closes the last account
        if part.kind == "rootless":
            if head is not None and (one := _one(head, texts)) is not None:
                found.append(one)
            head, texts = part, {}
        elif head is not None and part.kind.startswith("rootless_"):
            texts[part.kind] = part.text
    return tuple(sorted(found, key=lambda r: r.user))
