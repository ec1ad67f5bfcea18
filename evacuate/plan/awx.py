"""An AWX-importable layout of a fleet's rendered projects: a playbook of the ``awx.awx``
collection's modules that creates, in an AWX (or Automation Controller), per host one
project (the rendered project, a manual project under AWX's projects directory), one
inventory (sourced from the project's inventory/hosts.yml), one job template per step
(prepare, files, databases, activate, containers: the same playbooks, tags and variables ``evacuate
run`` uses) and, per wave, a workflow that runs each host's steps in order, the hosts side
by side. Secrets stay out: the job templates name credentials the AWX admin creates (the
machine credential for the targets, the vault password, and an "evacuate store" credential
whose type, made here, injects the store's key and S3 credentials as the modules read them).

The snapshot and verify steps are evacuate commands, not Ansible jobs: they are not in the
layout (take the snapshots before, verify after, from evacuate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evacuate.plan.model import RebuildPlan, StepKind
from evacuate.rebuild.datajob import KEY_ENV, PLAYBOOK, StoreAccess, job_vars

STEPS: tuple[tuple[StepKind, str, dict[str, Any]], ...] = (
    (StepKind.PREPARE, "site.yml", {"evacuate_restore_files": False,
                                    "evacuate_restore_databases": False}),
    (StepKind.FILES, PLAYBOOK, {}),
    (StepKind.DATABASES, PLAYBOOK, {}),
    # the files came from the store: the services restart onto their restored configuration
    (StepKind.ACTIVATE, "site.yml", {"evacuate_restore_files": False,
                                     "evacuate_restore_databases": False,
                                     "evacuate_services_restart": True}),
    # after the services (the engine's own among them) started
    (StepKind.CONTAINERS, PLAYBOOK, {}),
)
"""Each step a job template runs: its playbook and extra variables (its tag: its name)."""

STORE_CREDENTIAL_TYPE = "evacuate store"
CREDENTIALS = ("evacuate targets", "evacuate vault", "evacuate store")
"""The credentials (by name) the job templates use: created by the AWX admin, not here."""


@dataclass(frozen=True)
class AwxWave:
    name: str
    plans: tuple[RebuildPlan, ...]


def _raw(expression: str) -> str:
    """A Jinja expression AWX must see as written (not templated by this playbook)."""
    return "{% raw %}{{ " + expression + " }}{% endraw %}"


def job_template_name(plan: RebuildPlan, step: StepKind) -> str:
    return f"evacuate {plan.name} {step.value}"


def awx_layout(waves: Sequence[AwxWave], store: StoreAccess, *,
               organization: str = "Default") -> list[dict[str, Any]]:
    """The playbook (one play on localhost, awx.awx modules reaching the AWX named by the
    usual CONTROLLER_HOST / CONTROLLER_OAUTH_TOKEN environment)."""
    store_vars = {k: v for k, v in job_vars(store, "").items()
                  if v and k != "evacuate_snapshot_id"}  # the plan's snapshot: host_vars
    tasks: list[dict[str, Any]] = [{
        "name": "The credential type of the store's secrets (as the modules read them)",
        "awx.awx.credential_type": {
            "name": STORE_CREDENTIAL_TYPE, "kind": "cloud", "state": "present",
            "inputs": {"fields": [
                {"id": "store_key", "label": "Store key (base64)", "type": "string",
                 "secret": True},
                {"id": "access_key_id", "label": "S3 access key id", "type": "string"},
                {"id": "secret_access_key", "label": "S3 secret access key",
                 "type": "string", "secret": True}],
                "required": ["store_key"]},
            "injectors": {"env": {KEY_ENV: _raw("store_key"),
                                  "AWS_ACCESS_KEY_ID": _raw("access_key_id"),
                                  "AWS_SECRET_ACCESS_KEY": _raw("secret_access_key")}}}},
        {"name": "The execution environment the jobs run in (built from a project's "
                 "execution-environment.yml, pushed as evacuate_ee_image)",
         "awx.awx.execution_environment": {"name": "evacuate", "image": "{{ evacuate_ee_image }}",
                                           "organization": organization, "pull": "missing",
                                           "state": "present"}}]
    for wave in waves:
        for plan in wave.plans:
            tasks += _host_tasks(plan, store_vars, organization)
        tasks.append(_workflow(wave, organization))
    return [{"name": "evacuate: the fleet's projects, job templates and workflows in AWX",
             "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def _steps(plan: RebuildPlan) -> list[tuple[StepKind, str, dict[str, Any]]]:
    kinds = {step.kind for step in plan.steps}
    return [entry for entry in STEPS if entry[0] in kinds]


def _host_tasks(plan: RebuildPlan, store_vars: Mapping[str, Any],
                organization: str) -> list[dict[str, Any]]:
    name = f"evacuate {plan.name}"
    tasks: list[dict[str, Any]] = [
        {"name": f"The project of {plan.name} (copy it to AWX's projects directory as "
                 f"{plan.name}/)",
         "awx.awx.project": {"name": name, "organization": organization, "scm_type": "",
                             "local_path": plan.name, "state": "present"}},
        {"name": f"The inventory of {plan.name}",
         "awx.awx.inventory": {"name": name, "organization": organization,
                               "state": "present"}},
        {"name": f"The inventory of {plan.name}, from its project",
         "awx.awx.inventory_source": {"name": name, "inventory": name, "source": "scm",
                                      "source_project": name,
                                      "source_path": "inventory/hosts.yml",
                                      "update_on_launch": True, "state": "present"}}]
    for kind, playbook, extra in _steps(plan):
        data = playbook == PLAYBOOK
        tasks.append({
            "name": f"The {kind.value} step of {plan.name}",
            "awx.awx.job_template": {
                "name": job_template_name(plan, kind), "organization": organization,
                "project": name, "inventory": name, "playbook": playbook,
                "job_type": "run", "job_tags": kind.value,
                "extra_vars": {**extra, **(store_vars if data else {})},
                "credentials": list(CREDENTIALS if data else CREDENTIALS[:2]),
                "execution_environment": "evacuate", "state": "present"}})
    return tasks


def _workflow(wave: AwxWave, organization: str) -> dict[str, Any]:
    """The wave's workflow: each host's steps one after the other (the next on success),
    the hosts side by side."""
    nodes: list[dict[str, Any]] = []
    for plan in wave.plans:
        kinds = [kind for kind, _playbook, _extra in _steps(plan)]
        for index, kind in enumerate(kinds):
            node: dict[str, Any] = {
                "identifier": f"{plan.name} {kind.value}",
                "unified_job_template": {"name": job_template_name(plan, kind),
                                         "type": "job_template",
                                         "organization": {"name": organization}}}
            if index + 1 < len(kinds):
                node["related"] = {"success_nodes": [
                    {"identifier": f"{plan.name} {kinds[index + 1].value}"}]}
            nodes.append(node)
    return {"name": f"The workflow of wave {wave.name}",
            "awx.awx.workflow_job_template": {
                "name": f"evacuate wave {wave.name}", "organization": organization,
                "workflow_nodes": nodes, "destroy_current_nodes": True, "state": "present"}}
