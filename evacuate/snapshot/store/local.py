"""A store in a directory of the controller: one file per key, directories 0700,
files 0600. A put writes a hidden temporary file next to the target, fsyncs it and
renames it into place (then fsyncs the directory), so readers never see a partial
object and a crash leaves at most a hidden ``.tmp-*`` file that list() ignores."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from evacuate.errors import StoreError
from evacuate.snapshot.store.base import ObjectInfo, ObjectMissing, Store, check_key, check_prefix

COPY_CHUNK = 1024 * 1024
TEMP_PREFIX = ".tmp-"


class LocalStore(Store):
    """Objects as files below ``root``."""

    on_controller = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._deferred = False

    def describe(self) -> str:
        return str(self.root)

    def _error(self, action: str, key: str, err: OSError) -> StoreError:
        reason = err.strerror or type(err).__name__
        return StoreError(f"{self.describe()}: cannot {action} {key}: {reason}")

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def init(self, *, create: bool = False) -> None:
        if self.root.is_dir():
            return
        if self.root.exists():
            raise StoreError(f"{self.describe()}: exists and is not a directory")
        if not create:
            raise StoreError(f"{self.describe()}: no such store directory",
                             hint="initialise the store first")
        self._make_dirs(self.root)

    def _make_dirs(self, path: Path) -> None:
        missing: list[Path] = []
        while not path.is_dir():
            missing.append(path)
            path = path.parent
        for directory in reversed(missing):
            with contextlib.suppress(FileExistsError):
                directory.mkdir(mode=0o700)
                os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask

    def put(self, key: str, stream: BinaryIO, *, size_hint: int | None = None) -> None:
        target = self._path(key)
        temp = target.with_name(f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(6)}")
        try:
            self._make_dirs(target.parent)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as err:
            raise self._error("write", key, err) from None
        source_error: BaseException | None = None
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    os.fchmod(out.fileno(), 0o600)
                    while True:
                        try:
                            chunk = stream.read(COPY_CHUNK)
                        except BaseException as exc:  # the source's failure, not ours
                            source_error = exc
                            raise
                        if not chunk:
                            break
                        out.write(chunk)
                    out.flush()
                    if not self._deferred:
                        os.fsync(out.fileno())
                os.replace(temp, target)
            except OSError as err:
                if err is source_error:
                    raise
                raise self._error("write", key, err) from None
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        if not self._deferred:
            self._fsync_dir(target.parent)

    def defer_durability(self) -> None:
        self._deferred = True

    def make_durable(self) -> None:
        """One sync of everything written instead of an fsync per object (thousands of
        small blobs cost seconds of fsyncs otherwise)."""
        if self._deferred:
            os.sync()

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass  # some file systems cannot fsync directories; the rename is done
        finally:
            os.close(fd)

    def get(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectMissing(f"{self.describe()}: no object {key}") from None
        except OSError as err:
            raise self._error("read", key, err) from None

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            info = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            raise self._error("stat", key, err) from None
        if not stat.S_ISREG(info.st_mode):
            return None
        return ObjectInfo(key, info.st_size, info.st_mtime)

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        directory, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*directory.split("/")) if directory else self.root
        base = directory + "/" if directory else ""
        yield from (key for key in self._walk(start, base) if key.startswith(prefix))

    def _walk(self, directory: Path, base: str) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(directory), key=_sort_name)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as err:
            raise self._error("list", base or "/", err) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), f"{base}{entry.name}/")
            elif entry.is_file(follow_symlinks=False):
                yield f"{base}{entry.name}"

    def remove_leftovers(self, older_than: float) -> int:
        """Remove the ``.tmp-*`` files of puts that were killed, older than ``older_than``."""
        removed = 0
        for directory, _dirs, names in os.walk(self.root):
            for name in names:
                path = Path(directory, name)
                try:
                    if name.startswith(TEMP_PREFIX) and path.lstat().st_mtime < older_than:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
                except OSError as err:
                    raise self._error("clean up", name, err) from None
        return removed

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as err:
            raise self._error("delete", key, err) from None


def _sort_name(entry: os.DirEntry[str]) -> str:
    # A directory's keys continue with "/": sort it as such to list in key order.
    return entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name
