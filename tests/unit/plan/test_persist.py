"""Saved plans load back: the current form round-trips, and the forms earlier versions saved
(a string source_spec with a "disk:" prefix, prepare/activate as "ansible" steps) still load."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

import pytest

from evacuate.plan.model import (
    Estimate,
    PlanSource,
    RebuildPlan,
    SourceKind,
    Step,
    StepKind,
)
from evacuate.plan.persist import plan_from_json


def _plan(**changes: Any) -> RebuildPlan:
    plan = RebuildPlan(
        name="web-to-new", source="web", target="new", target_spec="root@192.0.2.2",
        source_os="debian 12", target_os="debian 12", snapshot_id="S0", created="",
        packages=("nginx",), packages_missing=(), groups=(), users=(), sudoers=(),
        config_files=("/etc/nginx/nginx.conf",), data_roots=("/srv",), mirrored_dirs=(),
        file_count=1, file_bytes=10, databases=(), services_enabled=(), services_started=(),
        cron_entries=0, timezone="", firewall_rules=0,
        steps=(Step("snapshot", "s", StepKind.SNAPSHOT),
               Step("prepare", "p", StepKind.PREPARE, ("prepare",)),
               Step("activate", "a", StepKind.ACTIVATE, ("activate",))),
        estimate=Estimate(0, 0, 0, 0, 0))
    return replace(plan, **changes)


def _saved(plan: RebuildPlan) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(asdict(plan)))
    return data


@pytest.mark.parametrize("source", [PlanSource(SourceKind.HOST, "web"),
                                    PlanSource(SourceKind.HOST, "ops@203.0.113.7:2222"),
                                    PlanSource(SourceKind.DISK, "doomed")])
def test_a_plan_round_trips(source: PlanSource) -> None:
    plan = _plan(source_spec=source)
    data = _saved(plan)
    assert data["source_spec"] == {"kind": str(source.kind), "host": source.host}
    assert plan_from_json(data) == plan


@pytest.mark.parametrize(("saved", "expected"), [
    ("disk:doomed", PlanSource(SourceKind.DISK, "doomed")),
    ("root@203.0.113.7", PlanSource(SourceKind.HOST, "root@203.0.113.7")),
    ("web", PlanSource(SourceKind.HOST, "web")),
    ("", PlanSource(SourceKind.HOST, "")),  # the oldest plans: the source label is the host
])
def test_a_plan_of_an_earlier_version_loads(saved: str, expected: PlanSource) -> None:
    data = _saved(_plan())
    data["source_spec"] = saved
    for step in data["steps"]:
        if step["id"] in ("prepare", "activate"):
            step["kind"] = "ansible"
    if not saved:
        del data["source_spec"]
    plan = plan_from_json(data)
    assert plan.source_spec == expected and plan.source_spec.is_disk == (saved[:5] == "disk:")
    assert [s.kind for s in plan.steps] == [StepKind.SNAPSHOT, StepKind.PREPARE,
                                            StepKind.ACTIVATE]


def test_another_playbook_step_stays_a_playbook_step() -> None:
    data = _saved(_plan(steps=(Step("extra", "x", StepKind.ANSIBLE, ("extra",)),)))
    assert plan_from_json(data).steps[0].kind is StepKind.ANSIBLE


def test_a_plan_with_its_dns_records_round_trips() -> None:
    from evacuate.dns.names import served_names
    from evacuate.dns.planning import plan_dns
    from tests.unit.dnsplan.replay import Replay
    from tests.unit.dnsplan.test_planning import CAPTURE, SOURCE, TARGET, lab_inventory

    dns = plan_dns(served_names(lab_inventory()), [SOURCE], TARGET, Replay.load(CAPTURE))
    assert dns.records and dns.long_ttls
    plan = _plan(dns=dns)
    assert plan_from_json(_saved(plan)) == plan
    assert plan_from_json(_saved(_plan())).dns is None
