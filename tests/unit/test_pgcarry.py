"""Carrying PostgreSQL settings across major versions: the real postgresql.conf files that
Debian 11 (PostgreSQL 13) and Debian 12 (PostgreSQL 15) create, and 15's own
``postgres --describe-config``, captured from the lab images."""

from __future__ import annotations

from pathlib import Path

from evacuate.rebuild.pgcarry import decide, known_settings, parse_settings, snippet

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
