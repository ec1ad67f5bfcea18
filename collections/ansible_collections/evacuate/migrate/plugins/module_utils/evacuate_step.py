# The shared part of the evacuate.migrate modules: their arguments and the one call into
# evacuate's library (evacuate.rebuild.datajob.run_step: the same code as `evacuate run`'s
# data steps on the controller). evacuate must be importable by the Python the module runs
# with (delegate_to: localhost: the job's own Python, e.g. an execution environment's).
from __future__ import annotations

import sys
import traceback
from typing import Any

ARGUMENT_SPEC = dict(
    plan=dict(type="path", required=True),
    store=dict(type="str", required=True),
    store_endpoint_url=dict(type="str"),
    store_region=dict(type="str"),
    store_key=dict(type="str", no_log=True),
    s3_access_key_id=dict(type="str", no_log=True),
    s3_secret_access_key=dict(type="str", no_log=True),
    s3_session_token=dict(type="str", no_log=True),
    snapshot=dict(type="str"),
    target_host=dict(type="str", required=True),
    target_port=dict(type="int"),
    target_user=dict(type="str"),
    known_hosts=dict(type="str"),
    interrupted=dict(type="str"),
)


def run(module: Any, step: str) -> None:
    """Run the data step ``step`` with ``module``'s parameters; exit the module."""
    try:
        from evacuate.errors import EvacuateError
        from evacuate.rebuild.datajob import run_step
    except ImportError:
        module.fail_json(msg=f"evacuate is not installed for {sys.executable}: install its "
                             "wheel where the job runs",
                         exception=traceback.format_exc())
        return
    try:
        outcome = run_step(step, module.params)
    except EvacuateError as failed:
        hint = getattr(failed, "hint", None)
        module.fail_json(msg=str(getattr(failed, "message", failed)) +
                         (f" ({hint})" if hint else ""))
        return
    module.exit_json(changed=True, evacuate_detail=outcome.detail,
                     evacuate_warnings=list(outcome.warnings), msg=outcome.detail)
