"""RebuildPlan from its JSON form, also the forms earlier versions saved:

- ``source_spec`` was a string: a host's config name or SSH spec, ``"disk:LABEL"`` for a
  rescued disk, or ``""`` (the oldest plans: the plan's source label). It is now
  ``{"kind": "host" | "disk", "host": TEXT}``.
- the prepare and activate steps were ``"kind": "ansible"``; they have kinds of their own now
  (by their ids, the only place these ids matter).
"""

from __future__ import annotations

from typing import Any

from evacuate.dns.model import dns_plan_from_json
from evacuate.plan.containers import containers_plan_from_json
from evacuate.plan.model import (
    DatabasePlan,
    Estimate,
    GroupPlan,
    PlanSource,
    PlanWarning,
    RebuildPlan,
    SourceKind,
    Step,
    StepKind,
    TargetAccount,
    UserPlan,
)
from evacuate.plan.state_model import state_from_json
from evacuate.snapshot.exclusion import RuleTotal

LEGACY_DISK_PREFIX = "disk:"
LEGACY_ANSIBLE_STEPS = {"prepare": StepKind.PREPARE, "activate": StepKind.ACTIVATE}


def plan_source_from_json(value: Any) -> PlanSource:
    if isinstance(value, dict):
        return PlanSource(SourceKind(value.get("kind", "host")), str(value.get("host", "")))
    text = str(value or "")
    if text.startswith(LEGACY_DISK_PREFIX):
        return PlanSource(SourceKind.DISK, text[len(LEGACY_DISK_PREFIX):])
    return PlanSource(SourceKind.HOST, text)


def step_from_json(data: dict[str, Any]) -> Step:
    kind = data["kind"]
    if kind == StepKind.ANSIBLE and data["id"] in LEGACY_ANSIBLE_STEPS:
        kind = LEGACY_ANSIBLE_STEPS[data["id"]]
    return Step(data["id"], data["title"], StepKind(kind), tuple(data["tags"]))


def plan_from_json(data: dict[str, Any]) -> RebuildPlan:
    return RebuildPlan(**{
        **data,
        "packages": tuple(data["packages"]),
        "packages_missing": tuple(data["packages_missing"]),
        "groups": tuple(GroupPlan(**{**g, "created_by": tuple(g.get("created_by", ()))})
                        for g in data["groups"]),
        "users": tuple(UserPlan(**{**u, "groups": tuple(u["groups"]),
                                   "authorized_keys": tuple(u["authorized_keys"]),
                                   "created_by": tuple(u.get("created_by", ()))})
                       for u in data["users"]),
        "target_own": tuple(TargetAccount(**t) for t in data.get("target_own", ())),
        "sudoers": tuple(tuple(s) for s in data["sudoers"]),
        "config_files": tuple(data["config_files"]),
        "data_roots": tuple(data["data_roots"]),
        "mirrored_dirs": tuple(data["mirrored_dirs"]),
        "databases": tuple(DatabasePlan(**d) for d in data["databases"]),
        "services_enabled": tuple(data["services_enabled"]),
        "services_started": tuple(data["services_started"]),
        "steps": tuple(step_from_json(s) for s in data["steps"]),
        "estimate": Estimate(**data["estimate"]),
        "warnings": tuple(PlanWarning(**w) for w in data["warnings"]),
        "source_spec": plan_source_from_json(data.get("source_spec")),
        "packages_renamed": tuple(tuple(r) for r in data.get("packages_renamed", ())),
        "postgresql_carry": tuple(data.get("postgresql_carry", ())),
        "other_release": tuple(data.get("other_release", ())),
        "undumped_units": tuple(data.get("undumped_units", ())),
        "state": state_from_json(data.get("state")),
        "containers": containers_plan_from_json(data.get("containers")),
        "rules": tuple(RuleTotal(**{**r, "examples": tuple(r.get("examples", ()))})
                       for r in data.get("rules", ())),
        "dns": dns_plan_from_json(data["dns"]) if data.get("dns") else None,
    })
