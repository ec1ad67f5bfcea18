"""A file stream that tar cuts short (tar dies mid-archive: a disk error, a killed
process) fails the snapshot in one line naming tar's exit status and its last complaint,
not an empty ``()``: the admin sees why."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from evacuate.errors import RemoteCommandError
from evacuate.snapshot import files
from evacuate.snapshot.scan import ScannedEntry
from evacuate.snapshot.store import BlobStore
from evacuate.snapshot.store.memory import MemoryStore
from evacuate.transport.base import Command, RemoteProcess
from evacuate.transport.local import LocalTransport


class CutTar(LocalTransport):
    """Answers the file stream with the first KiB of a real archive, then tar's complaint."""

    def __init__(self, archive: Path) -> None:
        super().__init__(name="root@web1:22")
        self.archive = archive

    def open_process(self, command: Command) -> RemoteProcess:
        return super().open_process(
            ["sh", "-c", f"cat >/dev/null; head -c 1024 {self.archive}; "
                         "echo 'tar: srv/big: Read error at byte 0: Input/output error' >&2; "
                         "exit 2"])


def test_a_cut_stream_names_tars_status_and_complaint(tmp_path: Path) -> None:
    data = tmp_path / "archive.tar"
    with tarfile.open(data, "w") as archive:
        payload = b"x" * 200_000
        info = tarfile.TarInfo("srv/big")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    entry = ScannedEntry(b"/srv/big", "file", 200_000, "1", "1", "1:1", 0o644, 0, 0, "root",
                         "root", 1, 400, None)
    with pytest.raises(RemoteCommandError) as failed:
        files._stream(CutTar(data), BlobStore(MemoryStore(), None), {b"/srv/big": entry}, None)
    message = str(failed.value)
    assert message.startswith("root@web1:22: the file stream ended early (tar exit status 2: "
                              "tar: srv/big: Read error at byte 0: Input/output error; ")
    assert message.endswith("nothing was committed")
