"""find's complaints while it lists a tree (a file vanished, a directory unreadable) are
warnings of the snapshot, not its failure: the scan runs find under xargs, which reports
find's 1 as 123, and that must read as "listed, with complaints"."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.snapshot.files import scan_tree
from evacuate.transport.base import Command
from evacuate.transport.local import LocalTransport

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="runs find as nobody (needs root)")


class AsNobody(LocalTransport):
    """The controller, with every command run as the unprivileged user nobody (for whom
    a mode 000 directory is unreadable, which root never meets)."""

    def _argv(self, command: Command) -> list[str]:
        return ["runuser", "-u", "nobody", "--", *super()._argv(command)]


@pytest.fixture()
def tree() -> Iterator[Path]:
    # pytest's own tmp_path sits below a directory only root may enter
    top = Path(tempfile.mkdtemp(prefix="evacuate-scan-"))
    root = top / "tree"
    (root / "locked").mkdir(parents=True)
    (root / "kept.txt").write_text("kept\n")
    (root / "locked" / "hidden.txt").write_text("hidden\n")
    (root / "locked").chmod(0)
    for path in (top, root):
        path.chmod(0o755)
    yield root
    (root / "locked").chmod(0o755)
    shutil.rmtree(top)


def test_a_directory_find_cannot_read_is_a_complaint_not_a_failure(tree: Path) -> None:
    kept, complaints = scan_tree(AsNobody(), [str(tree)], ())
    names = {entry.name for entry in kept}
    assert {str(tree), str(tree / "kept.txt"), str(tree / "locked")} <= names
    assert str(tree / "locked" / "hidden.txt") not in names
    assert any("Permission denied" in line and "locked" in line for line in complaints)

