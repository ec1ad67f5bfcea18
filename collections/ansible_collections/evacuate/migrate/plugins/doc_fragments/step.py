# The options every evacuate.migrate module shares: where the store and the target are, and
# the secrets to reach them (no_log in the modules' argument spec, module_utils/evacuate_step).
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
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
"""
