"""Carrying PostgreSQL settings across major versions: the real postgresql.conf files that
Debian 11 (PostgreSQL 13) and Debian 12 (PostgreSQL 15) create, and 15's own
``postgres --describe-config``, captured from the lab images."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from evacuate.rebuild.pgcarry import STEPS, decide, known_settings, parse_settings, snippet

FIXTURES = Path(__file__).parent / "fixtures" / "pgcarry"
OLD = (FIXTURES / "bullseye-13-postgresql.conf").read_text()
NEW = (FIXTURES / "bookworm-15-postgresql.conf").read_text()
KNOWN = known_settings((FIXTURES / "bookworm-15-describe-config.tsv").read_text())


def test_the_settings_of_a_real_postgresql_conf() -> None:
    old = parse_settings(OLD)
    assert old["max_connections"] == "100" and old["port"] == "5432"
    assert old["data_directory"] == "'/var/lib/postgresql/13/main'"
    assert old["log_line_prefix"] == "'%m [%p] %q%u@%d '"  # the trailing comment is gone
    assert "listen_addresses" not in old  # commented out
    assert parse_settings("a = 'x # y' # z\nb 2\n  #c = 3\n") == {"a": "'x # y'", "b": "2"}
    assert parse_settings("a = 1\nA = 4\n") == {"a": "4"}  # the last one wins
    assert {"max_connections", "shared_buffers", "timezone"} <= KNOWN
    assert "stats_temp_directory" not in KNOWN and len(KNOWN) > 300


def test_only_what_the_admin_changed_and_the_new_version_knows_is_carried() -> None:
    tuned = OLD.replace("max_connections = 100", "max_connections = 150") + \
        "\nwork_mem = '64MB'\ncheckpoint_segments = 32\n"
    carried = decide("main", parse_settings(tuned), parse_settings(NEW), KNOWN,
                     {"pg_hba.conf": b"local all all peer\n"})
    # 13's own paths and name, and the defaults both versions share, stay behind
    assert carried.settings == {"max_connections": "150", "work_mem": "'64MB'"}
    assert carried.unknown == ("checkpoint_segments",)
    text = snippet("13", carried)
    assert text.splitlines()[-2:] == ["max_connections = 150", "work_mem = '64MB'"]
    assert parse_settings(text) == carried.settings

    untouched = decide("main", parse_settings(OLD), parse_settings(NEW), KNOWN, {})
    assert untouched.settings == {} and untouched.unknown == ()


def _step(*args: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """One step of sh/pgcarry.sh, run the way the target runs it."""
    return subprocess.run(["sh", "-c", STEPS, "pgcarry", *args], input=input,
                          capture_output=True, timeout=60, check=False)


def test_the_target_steps_replace_and_take_back_the_access_files(tmp_path: Path) -> None:
    folder, owner = tmp_path / "15" / "main", f"{os.getuid()}:{os.getgid()}"
    folder.mkdir(parents=True)
    (folder / "pg_hba.conf").write_text("new cluster's own\n")
    assert _step("backup", str(folder), "pg_hba.conf", "pg_ident.conf").returncode == 0
    put = _step("put", str(folder / "pg_hba.conf"), owner, "0640", input=b"carried\n")
    assert put.returncode == 0, put.stderr
    conf = folder / "conf.d" / "evacuate-from-13.conf"
    assert _step("put", str(conf), owner, "0644", input=b"work_mem = '64MB'\n").returncode == 0
    assert (folder / "pg_hba.conf").read_text() == "carried\n"
    assert stat.S_IMODE((folder / "pg_hba.conf").stat().st_mode) == 0o640
    assert conf.read_text() == "work_mem = '64MB'\n"
    assert sorted(p.name for p in folder.iterdir()) == [
        "conf.d", "pg_hba.conf", "pg_hba.conf.evacuate-orig"]  # no copy of a missing file

    assert _step("undo", str(folder), str(conf), "pg_hba.conf", "pg_ident.conf").returncode == 0
    assert (folder / "pg_hba.conf").read_text() == "new cluster's own\n"
    assert not conf.exists() and not (folder / "pg_hba.conf.evacuate-orig").exists()

    assert _step("backup", str(folder), "pg_hba.conf").returncode == 0
    assert _step("clean", str(folder)).returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["conf.d", "pg_hba.conf"]
    assert _step("nonsense").returncode == 2
