"""Database dumps, streamed from the host into blobs with no temporary file on the host.

Each engine (evacuate.engines) turns the inventory's view of a running server into dump
jobs; this module runs them. A dump whose command fails, or whose stream does not look
complete, fails the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from evacuate.engines import dump_jobs
from evacuate.engines.base import DumpJob, parse_objects
from evacuate.errors import EvacuateError
from evacuate.inventory.model import DatabaseServer
from evacuate.snapshot.manifest import OBJECTS_UNREAD, DumpEntry
from evacuate.snapshot.store import BlobRef, BlobStore
from evacuate.snapshot.streams import CountingReader
from evacuate.stopwatch import Stopwatch
from evacuate.transport.base import Transport


class DumpFailed(EvacuateError):
    """A database dump failed or came out incomplete: the snapshot must not be committed."""


class _Edges:
    """Pass a stream through, keeping its first and last bytes for a completeness check."""

    def __init__(self, source: object, keep: int = 256) -> None:
        self.source, self.keep = source, keep
        self.head, self.tail = b"", b""

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.source.read(size)  # type: ignore[attr-defined]
        if data:
            if len(self.head) < self.keep:
                self.head += data[: self.keep - len(self.head)]
            self.tail = (self.tail + data)[-self.keep:]
        return data


def jobs_for(server: DatabaseServer, servers: Sequence[DatabaseServer] = ()) -> list[DumpJob]:
    """The dump jobs of ``server``'s engine (none for an engine evacuate cannot dump);
    ``servers``: the inventory's, to tell an instance beyond the engine's first (its dumps
    are tagged with it, evacuate.engines.dump_jobs)."""
    return dump_jobs(server, servers or (server,))


def parse_counts(text: str) -> dict[str, int]:
    """Parse ``table<TAB>count`` lines."""
    counts = {}
    for line in text.splitlines():
        table, sep, count = line.rpartition("\t")
        if sep and count.strip().isdigit():
            counts[table] = int(count)
    return counts


def run_dump(transport: Transport, blobs: BlobStore, job: DumpJob,
             progress: Callable[[int], None] | None = None,
             previous: DumpEntry | None = None, previous_id: str = "",
             watch: Stopwatch | None = None) -> DumpEntry:
    """Stream one dump into a blob; raise DumpFailed if it fails or looks incomplete.
    ``previous``: the same database's dump in the previous snapshot (``previous_id``): when
    its schema's md5, row counts and listed objects (a fingerprint of every table's rows)
    are all as they are now, the database has not changed and that dump is kept, not taken
    again. Without a previous dump there is nothing to keep: the checks (recorded for
    verify and for the next snapshot) run alongside the stream, on a channel of their own."""
    what = f"{transport.name}: {job.engine} dump of {job.database}"
    watch = watch or Stopwatch()
    with watch.phase("dumps: quiet check"):
        quiet = _quiet(transport, job)
    if quiet and previous is not None and previous.quiet == quiet:
        # the server says nothing changed since before the previous dump was checked
        return replace(previous, unchanged_since=previous.unchanged_since or previous_id,
                       kept="quiet")

    def checks() -> tuple[str, dict[str, int], dict[str, str]]:
        with watch.phase("dumps: schema, counts and fingerprints"):
            return _checks(transport, job, what)

    if previous is None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dump-checks") as pool:
            checking = pool.submit(checks)
            ref, edges = _stream(transport, blobs, job, what, progress, watch)
            marker, counts, objects = checking.result()
    else:
        marker, counts, objects = checks()
        if unchanged(previous, marker, counts, objects):
            return replace(previous, unchanged_since=previous.unchanged_since or previous_id,
                           quiet=quiet, kept="checked")
        ref, edges = _stream(transport, blobs, job, what, progress, watch)
    problem = job.check(edges.head, edges.tail)
    if problem:
        raise DumpFailed(f"{what} is incomplete: {problem}")
    return DumpEntry(job.engine, job.database, job.format, ref, job.secret, counts,
                     objects=objects, marker=marker, quiet=quiet)


def _checks(transport: Transport, job: DumpJob,
            what: str) -> tuple[str, dict[str, int], dict[str, str]]:
    """The schema's md5, the row counts and the listed objects, as the source says now."""
    marker = _marker(transport, job) if job.marker_command else ""
    counts: dict[str, int] = {}
    if job.counts_command:
        result = transport.run(job.counts_command, timeout=900)
        if not result.ok:
            raise DumpFailed(f"{what}: counting rows failed: "
                             f"{(result.error_text.strip().splitlines() or ['?'])[-1]}")
        counts = parse_counts(result.text)
    objects = _objects(transport, job) if job.objects_command else {}
    return marker, counts, objects


def _stream(transport: Transport, blobs: BlobStore, job: DumpJob, what: str,
            progress: Callable[[int], None] | None, watch: Stopwatch) -> tuple[BlobRef, _Edges]:
    """The dump's output streamed into a blob; DumpFailed when the command fails."""
    with watch.phase("dumps: streams"), transport.open_process(job.command) as proc:
        edges = _Edges(CountingReader(proc.stdout, progress))
        ref = blobs.put_stream(edges, secret=f"the {job.database} dump" if job.secret else "")  # type: ignore[arg-type]
        status = proc.wait(timeout=120)
        errors = proc.stderr_text().strip().splitlines()
    if status != 0:
        raise DumpFailed(f"{what} failed (exit {status}): {errors[-1] if errors else 'no message'}")
    return ref, edges


def unchanged(previous: DumpEntry | None, marker: str, counts: dict[str, int],
              objects: dict[str, str]) -> bool:
    """Whether the database is as it was when ``previous`` was dumped: the same schema
    (marker), row counts and objects, with a content fingerprint of every counted table."""
    if previous is None or not marker or not previous.marker or OBJECTS_UNREAD in objects:
        return False
    fingerprinted = all(f"content {table}" in objects for table in counts)
    return (fingerprinted and marker == previous.marker and counts == previous.tables
            and objects == previous.objects)


def _quiet(transport: Transport, job: DumpJob) -> str:
    """The quiet check's line (Engine.quiet_command); "" when there is none, the command
    failed or printed nothing."""
    if job.quiet_command is None:
        return ""
    result = transport.run(job.quiet_command, timeout=300)
    return result.text.strip() if result.ok else ""


def _marker(transport: Transport, job: DumpJob) -> str:
    """The schema's md5; "" (dump anew) when the source cannot say."""
    assert job.marker_command is not None
    result = transport.run(job.marker_command, timeout=900)
    found = result.text.split()[:1] if result.ok else []
    return found[0] if found and len(found[0]) == 32 else ""


def _objects(transport: Transport, job: DumpJob) -> dict[str, str]:
    """What verify compares besides the row counts; a source whose server cannot list them
    (an old version without a catalog column) still dumps: verify counts them as not
    verified, with the reason."""
    assert job.objects_command is not None
    result = transport.run(job.objects_command, timeout=1800)
    if not result.ok:
        reason = (result.error_text.strip().splitlines() or [f"exit {result.exit_status}"])[-1]
        return {OBJECTS_UNREAD: reason[:300]}
    return parse_objects(result.text)
