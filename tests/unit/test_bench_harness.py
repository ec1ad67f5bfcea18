"""The bench's pure parts: statistics, round caps, the results JSON, running side by side,
and the anchors' by-hand steps. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench import harness
from bench.p4_run import by_engine, hand_copies
from bench.workload import dump_groups


def figure(candidate: list[float], anchor: list[float]) -> harness.Figure:
    return harness.Figure("PX", "a figure", "cand", "anch", goal=1.0,
                          candidate_times=candidate, anchor_times=anchor)


def test_spread_is_min_median_max() -> None:
    assert harness.spread([3.0, 1.0, 2.0, 10.0]) == (1.0, 2.5, 10.0)
    assert harness.spread([4.0]) == (4.0, 4.0, 4.0)


def test_spread_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no measured rounds"):
        harness.spread([])


def test_rounds_are_capped_per_figure() -> None:
    assert harness.rounds_for("P1", 5) == 5
    assert harness.rounds_for("P4", 5) == 2
    assert harness.rounds_for("RTO", 5) == 2
    assert harness.rounds_for("P5", 5) == 3
    assert harness.rounds_for("P6", 5) == 3
    assert harness.rounds_for("P7", 5) == 1
    assert harness.rounds_for("BW", 5) == 3
    assert harness.rounds_for("P4", 1) == 1
    assert harness.rounds_for("P2", 0) == 1


def test_the_report_prints_round_count_and_min_median_max_of_each_side() -> None:
    text = harness.report([figure([1.0, 2.0, 4.0], [2.0, 3.0, 5.0])])
    assert "3 rounds" in text
    assert "evacuate 1.00/2.00/4.00 s" in text
    assert "anchor 2.00/3.00/5.00 s" in text
    assert "0.67x" in text
    assert "1 round," in harness.report([figure([1.0], [2.0])])


def test_a_rate_figure_is_met_only_within_its_band() -> None:
    def rate(achieved: float) -> harness.Figure:  # MiB/s achieved against a limit of 8
        return harness.Figure("BW-read", "a stream", "achieved", "the limit", goal=1.10,
                              goal_min=0.90, candidate_times=[achieved], anchor_times=[8.0],
                              unit="MiB/s")

    assert rate(7.9).met and rate(8.7).met
    assert not rate(7.0).met, "too slow: the limit throttles more than asked"
    assert not rate(9.0).met, "too fast: the limit is not held"
    assert harness.figure_record(rate(7.9))["goal_min"] == 0.90


def test_a_figure_record_has_rounds_and_both_spreads() -> None:
    record = harness.figure_record(figure([1.0, 2.0, 4.0], [2.0, 3.0, 5.0]))
    assert record["rounds"] == 3
    assert (record["candidate_min"], record["candidate_median"], record["candidate_max"]) \
        == (1.0, 2.0, 4.0)
    assert (record["anchor_min"], record["anchor_median"], record["anchor_max"]) \
        == (2.0, 3.0, 5.0)
    assert record["ratio"] == pytest.approx(2 / 3)
    assert record["met"] is True


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          cwd=folder, check=True, capture_output=True, text=True).stdout


def test_revision_is_the_commit_and_whether_the_tree_is_dirty(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a").write_text("a\n")
    git(tmp_path, "add", "a")
    git(tmp_path, "commit", "-q", "-m", "a")
    head = git(tmp_path, "rev-parse", "HEAD").strip()
    assert harness.revision(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "a").write_text("changed\n")
    assert harness.revision(tmp_path) == {"commit": head, "dirty": True}
    (tmp_path / "a").write_text("a\n")
    (tmp_path / "new").write_text("untracked\n")
    assert harness.revision(tmp_path) == {"commit": head, "dirty": True}


def test_revision_outside_a_checkout_is_unknown(tmp_path: Path) -> None:
    assert harness.revision(tmp_path) == {"commit": None, "dirty": None}


def test_saved_results_record_commit_dirty_and_the_figures(tmp_path: Path) -> None:
    path = harness.save([figure([1.0, 2.0], [2.0, 2.0])], {"workload": "small"},
                        folder=tmp_path / "results")
    document = json.loads(path.read_text())
    machine = document["machine"]
    head = git(Path(harness.__file__).parent, "rev-parse", "HEAD").strip()
    assert machine["commit"] == head
    assert isinstance(machine["dirty"], bool)
    assert machine["workload"] == "small"
    assert path.name.endswith(f"-{head[:7]}{'-dirty' if machine['dirty'] else ''}.json")
    [record] = document["figures"]
    assert record["rounds"] == 2 and record["anchor_max"] == 2.0


def test_results_name_marks_a_dirty_tree() -> None:
    info = {"date": "2026-12-02T21:00:00+00:00", "commit": "0123456789abcdef"}
    assert harness.results_name(info) == "2026-12-02T210000-0123456.json"
    assert harness.results_name(info | {"dirty": True}) == "2026-12-02T210000-0123456-dirty.json"
    assert harness.results_name({"date": info["date"], "commit": None}) \
        == "2026-12-02T210000-unknown.json"


def test_concurrently_runs_the_actions_side_by_side() -> None:
    # Each action waits for the other at the barrier: run one after the other, the first
    # would wait alone and the barrier would break.
    barrier = threading.Barrier(2, timeout=30)
    done: list[str] = []
    harness.concurrently(lambda: (barrier.wait(), done.append("a")),
                         lambda: (barrier.wait(), done.append("b")))
    assert sorted(done) == ["a", "b"]


def test_concurrently_waits_for_all_and_raises_a_failure() -> None:
    done: list[str] = []

    def fails() -> None:
        raise RuntimeError("dump failed")

    with pytest.raises(RuntimeError, match="dump failed"):
        harness.concurrently(fails, lambda: done.append("tar"))
    assert done == ["tar"]


def test_dumps_are_grouped_per_database_server_in_order() -> None:
    groups = dump_groups([("postgresql", "*globals*"), ("mysql", "benchmy"),
                          ("postgresql", "benchpg"), ("mysql", "*users*")])
    assert [[name for name, _ in group] for group in groups] == [
        ["pg-globals.sql", "pg-benchpg.dump"], ["my-benchmy.sql", "my-grants.sql"]]


def test_hand_copies_load_roles_first_and_skip_what_is_not_carried() -> None:
    copies = hand_copies([
        {"name": "benchpg", "engine": "postgresql", "owner": "app"},
        {"name": "postgres", "engine": "postgresql"},
        {"name": "*globals*", "engine": "postgresql"},
        {"name": "*users*", "engine": "mysql"},
        {"name": "benchmy", "engine": "mysql"}])
    assert [c.name for c in copies] == ["pg-globals.sql", "pg-benchpg.dump", "my-benchmy.sql"]
    assert copies[1].load == ("runuser -u postgres -- createdb -O app benchpg",
                              "runuser -u postgres -- pg_restore -d benchpg")
    assert [[c.name for c in g] for g in by_engine(copies)] == [
        ["pg-globals.sql", "pg-benchpg.dump"], ["my-benchmy.sql"]]


def test_by_hand_copies_package_state_after_apt_and_no_database_directory() -> None:
    from bench.p4_run import split_roots

    assert split_roots(["/home", "/srv", "/var/lib/nginx", "/var/lib/postgresql",
                        "/var/lib/postgresql/15", "/var/lib/mysql", "/var/www"]) == (
        ["/home", "/srv", "/var/www"], ["/var/lib/nginx"])
    assert split_roots(["/var/lib"]) == ([], [])  # it holds the database directories


def test_alternate_with_cpu_records_each_runs_child_cpu_seconds_per_unit() -> None:
    """The candidate's runs burn CPU in a child process and the anchor's sleep in one: the
    recorded controller CPU (children's user + system time) tells them apart, per host, in
    the report and the results JSON."""
    burn = [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
            "while time.process_time() < end: pass"]
    rest = [sys.executable, "-c", "import time; time.sleep(0.3)"]
    fig = harness.Figure("P6", "hosts", "10 hosts", "1 host", goal=3.0, cpu_per=(10, 1),
                         cpu_unit="host")
    harness.alternate(fig, lambda: subprocess.run(burn, check=True),
                      lambda: subprocess.run(rest, check=True), rounds=2, warmup=False,
                      cpu=True)
    assert len(fig.candidate_cpu) == len(fig.anchor_cpu) == 2
    assert min(fig.candidate_cpu) >= 0.25 and max(fig.anchor_cpu) < 0.2
    record = harness.figure_record(fig)
    assert 0.025 <= float(record["candidate_cpu_per_host"]) < 0.1  # type: ignore[arg-type]
    assert "controller CPU per host" in harness.report([fig])
    assert "cpu_per_host" not in str(harness.figure_record(figure([1.0], [1.0])))


def test_the_anchor_dumps_redis_and_sqlite_natively(tmp_path: Path) -> None:
    """lab-mail's redis and SQLite dumps have anchors of their own: redis-cli --rdb, and
    sqlite3's online backup streamed (run here on a real database)."""
    import sqlite3

    from bench.workload import dump_commands

    db = tmp_path / "app db.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (x)")
        conn.execute("insert into t values (42)")
    conn.close()
    commands = dict(dump_commands([("redis", "0"), ("sqlite", str(db))]))
    assert commands["redis.rdb"].startswith("redis-cli --rdb -")
    [backup] = [c for name, c in commands.items() if name.startswith("sqlite-")]
    out = subprocess.run(["sh", "-c", backup], capture_output=True, check=True).stdout
    assert out.startswith(b"SQLite format 3\0")
    copy = tmp_path / "copy.db"
    copy.write_bytes(out)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("select x from t").fetchall() == [(42,)]
    conn.close()
