"""The RTO anchor's pure parts, and its restic steps run for real on a local repository
(restic is one of the Debian packages `make deps` installs): the roots backed up from a
copy's top come back out of `restic dump latest / --archive tar` at their own paths."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.p4_run import pipe
from bench.rto import dump_tree, relative_paths, restic_repository, restore_of, restore_tree


def test_relative_paths_drop_the_leading_slash() -> None:
    assert relative_paths(["/srv/data", "/etc/nginx/", "/opt/notes"]) == [
        "srv/data", "etc/nginx", "opt/notes"]
    assert relative_paths(["/"]) == []


def test_the_repository_is_restics_s3_backend_on_the_same_server() -> None:
    assert restic_repository("http://127.0.0.1:8333/") == "s3:http://127.0.0.1:8333/restic/bench"
    assert restic_repository("http://h:1", "/b/p/") == "s3:http://h:1/b/p"


def test_the_restore_of_a_plan_splits_roots_and_groups_dumps_per_engine() -> None:
    restore = restore_of({
        "packages": ["nginx", "postgresql-15"],
        "data_roots": ["/srv/data", "/var/lib/nginx", "/var/lib/postgresql"],
        "databases": [{"name": "*globals*", "engine": "postgresql"},
                      {"name": "shop", "engine": "postgresql", "owner": "shop"},
                      {"name": "blog", "engine": "mysql"}]})
    assert restore.packages == ["nginx", "postgresql-15"]
    assert (restore.alongside, restore.after) == (["/srv/data"], ["/var/lib/nginx"])
    assert [[c.name for c in g] for g in restore.groups] == [
        ["pg-globals.sql", "pg-shop.dump"], ["my-blog.sql"]]


def test_restic_dump_of_the_copy_extracts_at_the_roots_own_paths(tmp_path: Path) -> None:
    copy, repo, out, dumps = (tmp_path / "copy", tmp_path / "repo", tmp_path / "out",
                              tmp_path / "restored")
    (copy / "srv" / "data").mkdir(parents=True)
    (copy / "srv" / "data" / "a file").write_text("one\n")
    (copy / "opt" / "notes").mkdir(parents=True)
    (copy / "opt" / "notes" / "app.py").write_text("two\n")
    (copy / "pg-shop.dump").write_bytes(b"\x00dump")
    out.mkdir()
    env = dict(os.environ, RESTIC_REPOSITORY=str(repo), RESTIC_PASSWORD="test",
               RESTIC_CACHE_DIR=str(tmp_path / "cache"))

    def restic(*args: str) -> None:
        subprocess.run(["restic", "--quiet", *args], env=env, cwd=copy, check=True,
                       capture_output=True)

    restic("init", "--repository-version", "2")
    restic("backup", "--tag", "alongside", *relative_paths(["/srv/data", "/opt/notes"]))
    restic("backup", "--tag", "dumps", "pg-shop.dump")
    pipe(dump_tree("alongside"), ["tar", "-C", str(out), "--numeric-owner", "-xpf", "-"], env)
    assert (out / "srv" / "data" / "a file").read_text() == "one\n"
    assert (out / "opt" / "notes" / "app.py").read_text() == "two\n"
    assert not (out / "pg-shop.dump").exists(), "each tag's snapshot is dumped alone"
    subprocess.run(restore_tree("dumps", dumps), env=env, check=True, capture_output=True)
    assert (dumps / "pg-shop.dump").read_bytes() == b"\x00dump"
