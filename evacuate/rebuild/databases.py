"""Restore database dumps from the store onto the target, streamed (no copy on disk).

Each engine (evacuate.engines) knows its commands. Roles/users first (their dumps carry
password hashes and are never written anywhere; one that fails to load fails the step), then
each database, but only into a database that has no tables yet: a re-run or a resumed run
never loads data twice or over newer data.
"""

from __future__ import annotations

from collections.abc import Callable

from evacuate.engines import Engine, engine_for, is_accounts
from evacuate.engines.base import LoadResult, container_of
from evacuate.errors import EvacuateError
from evacuate.snapshot.manifest import DumpEntry, SnapshotManifest
from evacuate.snapshot.store import BlobStore
from evacuate.transport.base import Transport


def _stream(target: Transport, blobs: BlobStore, dump: DumpEntry, command: str,
            progress: Callable[[int], None] | None) -> LoadResult:
    with target.open_process(command) as proc, blobs.open_blob(dump.blob) as blob:
        try:
            while chunk := blob.read(1 << 20):
                proc.stdin.write(chunk)
                if progress:
                    progress(len(chunk))
            proc.stdin.close()
        except OSError:
            pass  # the command stopped reading: its status says why
        status = proc.wait(timeout=3600)
        errors = proc.stderr_text().strip().splitlines()
    return LoadResult(status, tuple(errors))


def _engine(dump: DumpEntry) -> Engine:
    engine = engine_for(dump.engine)
    if engine is None:
        raise EvacuateError(f"the snapshot holds a {dump.engine} dump and evacuate has no "
                            f"engine for {dump.engine}")
    return engine


def drop_database(target: Transport, dump: DumpEntry) -> None:
    """Drop the target's copy of a database (cutover: the final dump replaces it)."""
    if not is_accounts(dump.database):
        _engine(dump).drop(target, dump)


def restore_dump(target: Transport, blobs: BlobStore, dump: DumpEntry, owner: str = "",
                 progress: Callable[[int], None] | None = None) -> str:
    """Restore one dump; return what was done (restored / skipped: reason). A load that
    fails raises RestoreFailed with its error (secrets masked)."""
    return _engine(dump).restore(
        target, lambda command: _stream(target, blobs, dump, command, progress), dump, owner)


def in_container(dump: DumpEntry) -> bool:
    """Whether ``dump`` is of a server that runs in a container (it is loaded into the
    target's container once the containers step started it)."""
    return bool(container_of(dump.engine)[1])


def restore_databases(target: Transport, blobs: BlobStore, manifest: SnapshotManifest,
                      owners: dict[str, str],
                      progress: Callable[[int], None] | None = None, *,
                      replace: bool = False, interrupted: str | None = None,
                      mark: Callable[[str | None], None] | None = None,
                      containers: bool | None = None) -> dict[str, str]:
    """Restore every dump of ``manifest`` (roles/users first); return database → outcome.
    ``containers``: only the dumps of servers in containers (True) or of the host's own
    servers (False); None: all of them.
    ``owners``: ``engine:database`` (the dump's engine, instance tag and all) → its owner.
    ``replace``: drop each database first (the cutover's final dump supersedes it).
    ``mark`` is told which database is being restored (None once all are), so that a run
    killed in the middle can say; ``interrupted`` is that database after such a kill: it
    is half restored, so it is dropped and restored again."""
    ordered = sorted((d for d in manifest.dumps
                      if containers is None or in_container(d) == containers),
                     key=lambda d: (d.engine, not is_accounts(d.database)))
    if replace:
        for dump in ordered:
            if dump.tables:
                drop_database(target, dump)
    outcomes = {}
    for dump in ordered:
        key = f"{dump.engine}:{dump.database}"
        if key == interrupted and dump.tables and not replace:
            drop_database(target, dump)
        if mark is not None:
            mark(key)
        outcomes[key] = restore_dump(target, blobs, dump, owners.get(key, ""), progress)
    if mark is not None:
        mark(None)
    return outcomes
