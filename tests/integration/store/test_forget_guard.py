"""forget's one-hour guard on a local store: what a snapshot being taken right now has
written (its blobs, the ``.tmp-*`` file of a put in flight) is kept; the same things an
hour old (a killed put's leftover, a blob no snapshot needs) go."""

from __future__ import annotations

import os
import time
from pathlib import Path

from evacuate.snapshot.maintenance import forget_and_prune
from evacuate.snapshot.open import open_repository
from evacuate.snapshot.store.local import TEMP_PREFIX
from evacuate.state import StateDir


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_forget_keeps_what_is_younger_than_an_hour_on_a_local_store(tmp_path: Path) -> None:
    repo = open_repository(None, StateDir(tmp_path / "state"), create=True)
    root = tmp_path / "state" / "store"
    before = {p for p in root.rglob("*") if p.is_file()}
    young_blob = repo.blobs.put_bytes(b"a blob of a snapshot being taken")
    old_blob = repo.blobs.put_bytes(b"a blob nothing needs any more")
    written = {p for p in root.rglob("*") if p.is_file()} - before
    assert len(written) == 2
    young_file, old_file = (next(p for p in written if repo.blobs.key_for(ref.sha256).endswith(
        p.name)) for ref in (young_blob, old_blob))
    in_flight = young_file.with_name(f"{TEMP_PREFIX}{young_file.name}.0123456789ab")
    killed = old_file.with_name(f"{TEMP_PREFIX}{old_file.name}.ba9876543210")
    in_flight.write_bytes(b"half of a blob being written")
    killed.write_bytes(b"half of a blob whose put was killed")
    for path, seconds in ((young_file, 50 * 60), (in_flight, 50 * 60),
                          (old_file, 70 * 60), (killed, 70 * 60)):
        _age(path, seconds)

    report = forget_and_prune(repo, [])
    assert (report.removed_blobs, report.removed_leftovers) == (1, 1)
    assert young_file.exists() and in_flight.exists()
    assert not old_file.exists() and not killed.exists()
