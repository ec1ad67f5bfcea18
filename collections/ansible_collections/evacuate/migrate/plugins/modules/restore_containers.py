#!/usr/bin/python
# Bring up the containers of a snapshot from evacuate's store on the target: a thin wrapper of
# evacuate.rebuild.datajob.run_step("containers", ...), the code `evacuate run` runs itself.
from __future__ import annotations

DOCUMENTATION = r"""
module: restore_containers
short_description: Bring up the containers of a snapshot from evacuate's store on the target
description:
  - Runs evacuate's containers step (the saved images loaded, the Compose projects up, the containers outside Compose recreated, the dumps of the servers in containers loaded into them) where the job runs (with C(delegate_to=localhost));
    the snapshot is read from the store (an S3 URL shared with the controller) and
    streamed to the target over SSH (evacuate's transport, the target's connection facts
    from the inventory, keys from the job's ssh-agent).
  - Requires evacuate installed for the Python the module runs with.
extends_documentation_fragment:
  - evacuate.migrate.step
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
    run(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=False), "containers")


if __name__ == "__main__":
    main()
