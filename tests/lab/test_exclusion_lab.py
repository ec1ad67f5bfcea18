"""Carry by exclusion on the lab: what the old inclusion list lost — an unowned app's state
under /var/lib, a hidden directory with data under /srv, a changed package file (not a
conffile), a library under /usr/local/lib, a file name of arbitrary bytes — is planted on
lab-source, and snapshot → plan → run brings each onto lab-target byte for byte; the plan
names the rules, with counts, that left the rest behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evacuate.config import load_config
from evacuate.lab.lab import Lab
from evacuate.snapshot.open import open_repository
from evacuate.state import StateDir
from tests.lab.source_state import changes
from tests.lab.test_run_lab import _source_state, evacuate, write_config

WEIRD = "/var/lib/wikiapp/pages/caf\\351 new\\nline.txt"  # printf escapes: Latin-1 é, newline
PLANTED = ("/var/lib/wikiapp/pages/Home.txt", "/var/lib/wikiapp/revisions/Home.1",
           "/var/lib/wikiapp/acl.php", "/srv/data/.cache/keep.txt",
           "/usr/share/doc/cron/README", "/usr/local/lib/evac-tool/libevac.so.1")
PLANT = (
    "mkdir -p /var/lib/wikiapp/pages /var/lib/wikiapp/revisions /srv/data/.cache "
    "/usr/local/lib/evac-tool /var/log/wikiapp && "
    "printf 'Welcome to the wiki\\n' > /var/lib/wikiapp/pages/Home.txt && "
    "printf 'rev 1\\n' > /var/lib/wikiapp/revisions/Home.1 && "
    "printf '<?php $acl = [\"admin\" => \"rw\"];\\n' > /var/lib/wikiapp/acl.php && "
    "chown -R www-data:www-data /var/lib/wikiapp && chmod 0640 /var/lib/wikiapp/acl.php && "
    "printf 'keep me\\n' > /srv/data/.cache/keep.txt && "
    "printf 'local note\\n' >> /usr/share/doc/cron/README && "
    "head -c 4096 /dev/urandom > /usr/local/lib/evac-tool/libevac.so.1 && "
    f"printf 'bytes\\n' > \"$(printf '{WEIRD}')\" && "
    "head -c 100000 /dev/zero > /var/log/wikiapp/access.log"
)
HASHES = "cd / && find {paths} -type f -print0 | sort -z | xargs -0 sha256sum"


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[Path, dict[str, Any]]]:
    lab.reset("lab-source")
    lab.reset("lab-target")
    with lab.open("lab-source") as source:
        source.run(PLANT, timeout=60, check=True)
    folder = tmp_path_factory.mktemp("exclusion")
    config = write_config(lab, folder)
    before = _source_state(lab)
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr
    ran = evacuate(config, "run", "--snapshot", "latest")
    assert ran.returncode == 0, ran.stderr[-3000:]
    (folder / "source-unchanged.txt").write_text("\n".join(changes(before, _source_state(lab))))
    try:
        yield config, json.loads(planned.stdout)
    finally:
        lab.reset("lab-source")


def _hashes(lab: Lab, host: str, paths: str) -> str:
    with lab.open(host) as transport:
        return transport.run(HASHES.format(paths=paths), timeout=120, check=True).stdout.decode(
            "utf-8", "surrogateescape")


def test_what_the_inclusion_list_lost_arrives_byte_for_byte(
        lab: Lab, evacuated: tuple[Path, dict[str, Any]]) -> None:
    paths = "/var/lib/wikiapp /srv/data/.cache /usr/share/doc/cron/README /usr/local/lib/evac-tool"
    source = _hashes(lab, "lab-source", paths)
    for planted in PLANTED:
        assert planted in source
    # the name of raw bytes, newline and all (sha256sum prints the newline as \n)
    assert "caf\udce9 new\\nline.txt" in source
    assert _hashes(lab, "lab-target", paths) == source
    with lab.open("lab-target") as target:
        assert target.run("stat -c '%U:%G %a' /var/lib/wikiapp/acl.php", check=True
                          ).text.strip() == "www-data:www-data 640"
        # the logs stay behind (sized in the plan), the target's packages own their files
        assert not target.run("test -e /var/log/wikiapp/access.log").ok


def test_the_plan_names_every_rule_with_its_counts(
        evacuated: tuple[Path, dict[str, Any]]) -> None:
    _config, plan = evacuated
    assert plan["selection"] == "exclusion"
    rules = {(r["rule"], r["stage"]): r for r in plan["rules"]}
    for name in ("data", "changed", "unowned", "package", "package-mode", "logs", "caches",
                 "database", "package-manager", "identity", "generated"):
        assert any(rule == name for rule, _ in rules), name
        assert all(r["entries"] > 0 and r["reason"] for r in plan["rules"])
    for name in ("target-identity", "apt-sources", "sudoers", "accounts", "operator-access"):
        assert (name, "plan") in rules, name
    logs = rules[("logs", "snapshot")]
    assert not logs["carried"] and logs["bytes"] >= 100000
    assert rules[("changed", "snapshot")]["carried"]
    assert "/usr/share/doc/cron/README" in rules[("changed", "snapshot")]["examples"]
    # the seed's hardening: the files stay the packages', their modes move
    modes = rules[("package-mode", "snapshot")]
    assert not modes["carried"] and modes["entries"] >= 2, modes
    assert rules[("package", "snapshot")]["files"] > 5000  # /usr is not read
    # the database data directories come from the inventory, not from fixed paths
    assert set(rules[("database", "snapshot")]["examples"]) == {
        "/var/lib/mysql", "/var/lib/postgresql/15/main"}
    assert "/var/lib/wikiapp" in plan["data_roots"]


def test_the_source_is_unchanged(evacuated: tuple[Path, dict[str, Any]]) -> None:
    config, _plan = evacuated
    assert (config.parent / "source-unchanged.txt").read_text() == ""


def test_with_logs_the_logs_move(lab: Lab, evacuated: tuple[Path, dict[str, Any]]) -> None:
    config, _plan = evacuated
    snapped = evacuate(config, "snapshot", "source", "--with-logs")
    assert snapped.returncode == 0, snapped.stderr
    loaded = load_config(config)
    repo = open_repository(loaded, StateDir(loaded.state_dir))
    manifest = repo.latest("source")
    assert manifest is not None
    paths = {e.path for e in manifest.files}
    assert "/var/log/wikiapp/access.log" in paths
    logs = next(r for r in manifest.rules if r.rule == "logs")
    assert logs.carried
