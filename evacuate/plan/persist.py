"""RebuildPlan from its JSON form."""

from __future__ import annotations

from typing import Any

from evacuate.plan.model import (
    DatabasePlan,
    Estimate,
    GroupPlan,
    PlanWarning,
    RebuildPlan,
    Step,
    UserPlan,
)
from evacuate.snapshot.exclusion import RuleTotal


def plan_from_json(data: dict[str, Any]) -> RebuildPlan:
    return RebuildPlan(**{
        **data,
        "packages": tuple(data["packages"]),
        "packages_missing": tuple(data["packages_missing"]),
        "groups": tuple(GroupPlan(**g) for g in data["groups"]),
        "users": tuple(UserPlan(**{**u, "groups": tuple(u["groups"]),
                                   "authorized_keys": tuple(u["authorized_keys"])})
                       for u in data["users"]),
        "sudoers": tuple(tuple(s) for s in data["sudoers"]),
        "config_files": tuple(data["config_files"]),
        "data_roots": tuple(data["data_roots"]),
        "mirrored_dirs": tuple(data["mirrored_dirs"]),
        "databases": tuple(DatabasePlan(**d) for d in data["databases"]),
        "services_enabled": tuple(data["services_enabled"]),
        "services_started": tuple(data["services_started"]),
        "steps": tuple(Step(**{**s, "tags": tuple(s["tags"])}) for s in data["steps"]),
        "estimate": Estimate(**data["estimate"]),
        "warnings": tuple(PlanWarning(**w) for w in data["warnings"]),
        "packages_renamed": tuple(tuple(r) for r in data.get("packages_renamed", ())),
        "postgresql_carry": tuple(data.get("postgresql_carry", ())),
        "rules": tuple(RuleTotal(**{**r, "examples": tuple(r.get("examples", ()))})
                       for r in data.get("rules", ())),
    })
