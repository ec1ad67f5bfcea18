"""Controller memory stays flat as data grows: 200 MB through the encrypted blob layer
into a local store and back, in a fresh interpreter whose peak RSS we compare."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SIZE = 200 * 1000 * 1000
LIMIT = 50 * 1024 * 1024

SCRIPT = r"""
import hashlib, io, json, os, resource, sys
from pathlib import Path
from evacuate.snapshot.crypto import Cipher
from evacuate.snapshot.store import BlobStore, LocalStore

class Generated(io.RawIOBase):
    def __init__(self, size):
        self.left = size
        self.block = os.urandom(1 << 16)
    def readable(self):
        return True
    def readinto(self, buffer):
        count = min(len(buffer), self.left, len(self.block))
        buffer[:count] = self.block[:count]
        self.left -= count
        return count

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

size, root, spool = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
store = LocalStore(root)
store.init(create=True)
blobs = BlobStore(store, Cipher(os.urandom(32)), spool_dir=spool)
blobs.put_bytes(b"warm up")  # imports and first-use allocations are not growth
with blobs.open_blob(blobs.put_bytes(b"warm up")) as reader:
    reader.read()
before = peak()
ref = blobs.put_stream(io.BufferedReader(Generated(size), buffer_size=1 << 20))
after_put = peak()
digest = hashlib.sha256()
with blobs.open_blob(ref) as reader:
    while chunk := reader.read(1 << 20):
        digest.update(chunk)
after_get = peak()
print(json.dumps({"before": before, "after_put": after_put, "after_get": after_get,
                  "size": ref.size, "verified": digest.hexdigest() == ref.sha256}))
"""


@pytest.mark.slow
def test_put_and_get_of_200MB_keep_memory_flat(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(SIZE), str(tmp_path / "store"), str(spool)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[3], timeout=300)
    report = json.loads(result.stdout)
    assert report["size"] == SIZE and report["verified"]
    assert report["after_put"] - report["before"] < LIMIT, report
    assert report["after_get"] - report["before"] < LIMIT, report
    assert list(spool.iterdir()) == []  # the spool file is gone
