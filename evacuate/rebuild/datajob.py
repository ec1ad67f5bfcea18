"""The data steps as an Ansible job: what ``evacuate run`` sends an execution node (the
store's location as job variables, its key and S3 credentials as vault variables), and what
the ``evacuate.migrate`` collection's modules do with it there (:func:`run_step`: the
store opened from its URL, the target from the inventory's connection facts, then the SAME
code as on the controller, evacuate.rebuild.data).

Only an S3 store is shared: a directory on the controller is not on the node, so with a
local store the data steps stay on the controller."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evacuate.config import Config
from evacuate.errors import ConfigError, EvacuateError, UsageError
from evacuate.plan.persist import plan_from_json
from evacuate.rebuild.data import DataOutcome, restore_containers, restore_dumps, restore_files
from evacuate.snapshot.crypto import Cipher, load_key
from evacuate.snapshot.open import choose_store
from evacuate.snapshot.repository import SnapshotRepository
from evacuate.snapshot.store import BlobStore, open_store
from evacuate.state import StateDir, read_json
from evacuate.transport import ConnectOptions, HostSpec, open_transport

PLAYBOOK = "data.yml"
"""The rendered project's playbook of the data steps (tags ``files``, ``databases`` and
``containers``)."""

PLAN_FILE = "plan.json"
"""The plan, rendered into the project (no secret: those are in the vault)."""

KEY_ENV = "EVACUATE_STORE_KEY"
"""The store key's environment variable on the node (an AWX credential can inject it)."""

AWS_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
SECRET_VARS = {"AWS_ACCESS_KEY_ID": "evacuate_s3_access_key_id",
               "AWS_SECRET_ACCESS_KEY": "evacuate_s3_secret_access_key",
               "AWS_SESSION_TOKEN": "evacuate_s3_session_token"}
STEPS = ("files", "databases", "containers")


@dataclass(frozen=True)
class StoreAccess:
    """An S3 store as a node reaches it: where, and the secrets (never shown)."""

    url: str
    endpoint_url: str | None = None
    region: str | None = None
    key_file: Path | None = None  # the store key, read when the job is sent (the
    key_env: str | None = None  # run's snapshot may be what creates the default key)
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)

    def key(self) -> str:
        """The store key, base64 (ConfigError when there is none)."""
        return base64.b64encode(load_key(key_file=self.key_file, key_env=self.key_env)).decode()


def store_access(config: Config | None, state: StateDir, url: str | None) -> StoreAccess | None:
    """The run's store as a node would open it; None when it is not S3 (the node cannot
    read the controller's directory). The key is the configured one (else
    ``<state>/keys/store.key``), the S3 credentials those of this environment (None of
    them: the node uses its own, e.g. an instance profile)."""
    choice = choose_store(config, state, url)
    if not choice.location.is_s3:
        return None
    default = state.root / "keys" / "store.key"
    return StoreAccess(str(choice.location), choice.endpoint_url, choice.region,
                       choice.key_file or default, choice.key_env,
                       {name: os.environ[name] for name in AWS_ENV if os.environ.get(name)})


def job_vars(store: StoreAccess, snapshot_id: str, *, interrupted: str | None = None
             ) -> dict[str, Any]:
    """The data job's variables that are no secret."""
    return {"evacuate_store_url": store.url, "evacuate_store_endpoint_url": store.endpoint_url,
            "evacuate_store_region": store.region, "evacuate_snapshot_id": snapshot_id,
            "evacuate_interrupted_database": interrupted}


def vault_vars(store: StoreAccess) -> dict[str, str]:
    """The data job's secret variables: they travel encrypted with the vault password."""
    values = {"evacuate_store_key": store.key()}
    values.update({SECRET_VARS[name]: value for name, value in store.credentials.items()})
    return values


def run_step(step: str, params: Mapping[str, Any]) -> DataOutcome:
    """A collection module's work: ``params`` as its argument spec gives them (plan,
    store, store_endpoint_url, store_region, store_key, s3_*, snapshot, target_host,
    target_port, target_user, known_hosts, interrupted). Raises EvacuateError."""
    if step not in STEPS:
        raise UsageError(f"not a data step: {step!r}")
    plan_path = Path(str(params["plan"]))
    try:
        plan = plan_from_json(read_json(plan_path))
    except OSError as failed:
        raise EvacuateError(f"cannot read the plan {plan_path}: {failed.strerror}") from None
    except (KeyError, TypeError, ValueError) as bad:
        raise EvacuateError(f"{plan_path} is not a readable plan: {bad}") from None
    _secrets_into_env(params)
    with tempfile.TemporaryDirectory(prefix="evacuate-spool-") as spool:
        repo = _repository(params, Path(spool))
        manifest = repo.load(repo.find(plan.source, str(params.get("snapshot") or
                                                         plan.snapshot_id)))
        spec = HostSpec(host=str(params["target_host"]),
                        user=params.get("target_user") or None,
                        port=int(params["target_port"]) if params.get("target_port") else None)
        known = params.get("known_hosts")
        options = ConnectOptions(known_hosts=Path(os.path.expanduser(known)) if known else None)
        with open_transport(spec, options) as target:
            if step == "files":
                return restore_files(plan, manifest, repo.blobs, target)
            restore = restore_containers if step == "containers" else restore_dumps
            return restore(plan, manifest, repo.blobs, target,
                           interrupted=params.get("interrupted") or None)


def _secrets_into_env(params: Mapping[str, Any]) -> None:
    """The module's secret parameters, for the store's key loader and boto3 (this process
    only; an unset one leaves the job's environment as it is)."""
    if params.get("store_key"):
        os.environ[KEY_ENV] = str(params["store_key"])
    for name, var in SECRET_VARS.items():
        value = params.get(var.removeprefix("evacuate_"))
        if value:
            os.environ[name] = str(value)


def _repository(params: Mapping[str, Any], spool: Path) -> SnapshotRepository:
    if not os.environ.get(KEY_ENV):
        raise ConfigError(f"no store key: give store_key (from the vault) or set {KEY_ENV}")
    store = open_store(str(params["store"]), endpoint_url=params.get("store_endpoint_url") or None,
                       region=params.get("store_region") or None)
    store.init(create=False)
    return SnapshotRepository(BlobStore(store, Cipher(load_key(key_file=None, key_env=KEY_ENV)),
                                        spool_dir=spool))
