#!/usr/bin/python
# Restore the databases of a snapshot (its dumps) from evacuate's store onto the target: a thin wrapper of
# evacuate.rebuild.datajob.run_step("databases", ...), the code `evacuate run` runs itself.
from __future__ import annotations

DOCUMENTATION = r"""
module: restore_databases
short_description: Restore the databases of a snapshot (its dumps) from evacuate's store onto the target
description:
  - Runs evacuate's databases step where the job runs (use C(delegate_to: localhost)):
    the snapshot is read from the store (an S3 URL shared with the controller) and
    streamed to the target over SSH (evacuate's transport, the target's connection facts
    from the inventory, keys from the job's ssh-agent).
  - Requires evacuate installed for the Python the module runs with.
options:
  plan: {description: The plan (the rendered project's plan.json)., type: path, required: true}
  store: {description: "The store's URL (s3://bucket/prefix).", type: str, required: true}
  store_endpoint_url: {description: An S3 endpoint other than AWS's., type: str}
  store_region: {description: The S3 region., type: str}
  store_key:
    description: The store's encryption key (base64 or hex); else the job's EVACUATE_STORE_KEY.
    type: str
  s3_access_key_id: {description: Else the job's AWS_ACCESS_KEY_ID., type: str}
  s3_secret_access_key: {description: Else the job's AWS_SECRET_ACCESS_KEY., type: str}
  s3_session_token: {description: Else the job's AWS_SESSION_TOKEN., type: str}
  snapshot: {description: "The snapshot's id (default: the plan's).", type: str}
  target_host: {description: The target's address., type: str, required: true}
  target_port: {description: Its SSH port., type: int}
  target_user: {description: Its SSH user., type: str}
  known_hosts: {description: The known_hosts file the target's key is checked against., type: str}
  interrupted: {description: The database a killed run was loading (restored again)., type: str}
author: evacuate
"""

RETURN = r"""
evacuate_detail: {description: What the step did (the journal's line)., type: str, returned: success}
evacuate_warnings: {description: What the step warns about., type: list, elements: str, returned: success}
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.evacuate.migrate.plugins.module_utils.evacuate_step import (  # noqa: E402
    ARGUMENT_SPEC,
    run,
)


def main() -> None:
    run(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=False), "databases")


if __name__ == "__main__":
    main()
