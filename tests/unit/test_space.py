"""Disk space checks on the target, on the controller itself as a real host (LocalTransport)."""

from __future__ import annotations

import pytest

from evacuate.errors import RemoteCommandError
from evacuate.rebuild.space import NotEnoughSpace, check_space, explain_no_space, free_bytes
from evacuate.transport.local import LocalTransport

# captured on lab-target (Debian 12): df -B1 --output=avail /
CAPTURED_DF = "    Avail\n79875117056\n"


def test_free_bytes_from_captured_df() -> None:
    assert free_bytes(CAPTURED_DF) == 79875117056
    assert free_bytes("Avail\n") is None


def test_check_space_names_the_target_and_the_sizes() -> None:
    local = LocalTransport(name="new-host")
    check_space(local, "/", 1024, "the files")  # fits
    with pytest.raises(NotEnoughSpace) as refused:
        check_space(local, "/", 2**60, "the files")
    message = str(refused.value)
    assert message.startswith("new-host: not enough disk space for the files: needs about")
    assert "MiB free on /" in message and "\n" not in message


def test_a_full_disk_during_restore_is_explained() -> None:
    local = LocalTransport(name="new-host")
    failure = RemoteCommandError("new-host: restoring into / failed (exit 2): tar: srv/a: "
                                 "Cannot write: No space left on device")
    explained = explain_no_space(local, failure, 5 * 2**20)
    assert isinstance(explained, NotEnoughSpace) and "ran out of disk space" in str(explained)
    other = RemoteCommandError("new-host: restoring into / failed (exit 2): tar: bad")
    assert explain_no_space(local, other, 1) is other
