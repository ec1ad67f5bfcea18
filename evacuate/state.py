"""The state directory: where inventories, plans, journals, reports and the lab's keys live.

Directories are created 0700 and files written 0600, atomically (write to a
temporary file in the same directory, fsync, rename), so that a crash never
leaves a half-written JSON file behind and nothing is readable by other users.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(".evacuate")
STATE_ENV = "EVACUATE_STATE_DIR"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it 0700; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes | str) -> Path:
    """Atomically write ``data`` to ``path`` with mode 0600; return ``path``."""
    ensure_private_dir(path.parent)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_json(path: Path, value: Any) -> Path:
    """Atomically write ``value`` as indented JSON (0600)."""
    return write_private(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    """Return the JSON value stored at ``path``."""
    with path.open("rb") as handle:
        return json.load(handle)


@dataclass(frozen=True)
class StateDir:
    """A state directory root with the well-known sub-directories."""

    root: Path

    @classmethod
    def resolve(cls, explicit: Path | str | None = None) -> StateDir:
        """Pick the state dir: explicit argument, then $EVACUATE_STATE_DIR, then ./.evacuate."""
        chosen = explicit or os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR
        return cls(Path(chosen).absolute())

    def sub(self, *parts: str) -> Path:
        """Return (and create, 0700) a sub-directory of the state dir."""
        return ensure_private_dir(self.root.joinpath(*parts))

    @property
    def lab(self) -> Path:
        return self.sub("lab")

    @property
    def logs(self) -> Path:
        return self.sub("logs")
