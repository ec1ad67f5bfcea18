"""``evacuate run --dry-run`` on the lab: it prints the steps, the Ansible tasks and the data
that would move, and changes nothing anywhere: not the target (its packages, and /etc, /srv,
/home, /root by content and metadata), not the source, not the store, not the state
directory (no journal, no runner directory)."""

from __future__ import annotations

import json
from pathlib import Path

from evacuate.lab.lab import Lab
from tests.lab.test_run_lab import evacuate, write_config

HOST_STATE = ("dpkg-query -W -f '${Package} ${Version} ${Status}\\n' | sort; "
              "find /etc /srv /home /root -xdev -printf '%p|%y|%m|%u|%g|%s|%T@|%C@\\n' | sort; "
              "find /etc /srv /home /root -xdev -type f -print0 | sort -z | xargs -0 sha256sum")


def _host_state(lab: Lab, name: str) -> str:
    with lab.open(name) as host:
        return host.run(HOST_STATE, timeout=300, check=True).text


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_a_dry_run_prints_the_run_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    config = write_config(lab, tmp_path)
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr[-3000:]
    plan = json.loads(planned.stdout)
    state = tmp_path / "state"
    target_before, source_before = _host_state(lab, "lab-target"), _host_state(lab, "lab-source")
    state_before = _tree(state)

    shown = evacuate(config, "run", "--dry-run")
    assert shown.returncode == 0, shown.stderr[-3000:]
    out = shown.stdout
    assert "[1/6] snapshot: " in out and "[6/6] verify: " in out and "nothing is changed" in out
    assert "task: packages : Install the packages of the source" in out, out[-3000:]
    assert "task: services : Start the units" in out, out[-3000:]
    assert f"{plan['file_count']} entries" in out
    assert all(f"database: {d['engine']}:{d['name']} " in out for d in plan["databases"])

    described = evacuate(config, "run", "--dry-run", "--json")
    assert described.returncode == 0, described.stderr[-3000:]
    document = json.loads(described.stdout)
    assert document["ok"] and [s["id"] for s in document["steps"]] == \
        [s["id"] for s in plan["steps"]]

    assert _host_state(lab, "lab-target") == target_before
    assert _host_state(lab, "lab-source") == source_before
    assert _tree(state) == state_before  # no journal, no runner artifacts, store untouched
    assert not (state / "plans" / plan["name"] / "journal.json").exists()
