"""The before/after comparison of a lab source excuses what the host's own cron job wrote
only when the journal shows that job ran in between (the line as Debian's cron writes it)."""

from __future__ import annotations

from tests.lab.source_state import Entry, FileSystemState, changes

RAN = "1796611321.123057 lab-source CRON[191]: (root) CMD (/usr/local/sbin/backup-db.sh)"
OPENED = ("1796611321.121111 lab-source CRON[190]: pam_unix(cron:session): session opened for "
          "user root(uid=0) by (uid=0)")


def _dir(mtime: str, mode: str = "755") -> Entry:
    return Entry("d", mode, "0", "0", "4096", mtime, mtime, b"")


def _state(entries: dict[bytes, Entry], *runs: str) -> FileSystemState:
    state = FileSystemState(entries)
    state.cron_runs = frozenset(runs)
    return state


BEFORE = {b"/": _dir("1"), b"/var": _dir("1"), b"/var/backups": _dir("1"),
          b"/etc": _dir("1")}
DUMP = Entry("f", "644", "0", "0", "0", "2", "2", b"", "e3b0")
AFTER = {**BEFORE, b"/var": _dir("2"), b"/var/backups": _dir("2"),
         b"/var/backups/shop.dump": DUMP}


def test_what_the_nightly_dump_wrote_is_excused_when_the_journal_says_it_ran() -> None:
    assert changes(_state(BEFORE, OPENED), _state(AFTER, OPENED, RAN)) == []


def test_the_same_writes_are_changes_when_the_job_had_run_before_or_not_at_all() -> None:
    found = changes(_state(BEFORE, RAN), _state(AFTER, RAN))
    assert "added /var/backups/shop.dump" in found
    assert any(line.startswith("changed /var/backups: mtime") for line in found)
    assert changes(BEFORE, AFTER) == found


def test_beside_the_job_everything_else_still_counts() -> None:
    after = {**AFTER, b"/var/backups/other": DUMP, b"/etc": _dir("1", mode="700")}
    found = changes(_state(BEFORE), _state(after, RAN))
    assert found == ["changed /etc: mode '755' -> '700'", "added /var/backups/other"]
    moded = {**AFTER, b"/var/backups": _dir("2", mode="700")}
    assert changes(_state(BEFORE), _state(moded, RAN)) == [
        "changed /var/backups: mode '755' -> '700', mtime '1' -> '2', ctime '1' -> '2'"]
