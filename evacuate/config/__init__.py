"""evacuate.yml: find it, validate it against ``schema.yaml``, return typed settings.

Validation reports every problem at once, one line each, as ``At 'hosts.web1.ssh':
message`` (list items as ``[0]``), inside one :class:`~evacuate.errors.ConfigError`.
The schema catches shapes and types; the checks in :mod:`.validate` catch what a
schema cannot (a host's target must exist, durations, SSH addresses and store URLs
must parse). Relative paths are taken relative to the config file's directory; ``~``
expands.

Modules: :mod:`.model` (the frozen settings), :mod:`.parse` (durations, store URLs;
SSH addresses are the transport's :class:`~evacuate.transport.spec.HostSpec`),
:mod:`.validate` (schema and semantic checks, problem lines), :mod:`.load` (finding,
reading, building) and :mod:`.sample` (the commented sample and the reference).
"""

from __future__ import annotations

from evacuate.config.load import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    config_from_data,
    find_config,
    load_config,
    require_config,
)
from evacuate.config.model import (
    AcceptedDifference,
    CommandCheck,
    Config,
    DatabaseSettings,
    Detect,
    HostConfig,
    LabSettings,
    SnapshotSettings,
    SQLCheck,
    SSHSettings,
    StoreConfig,
    TargetConfig,
    URLCheck,
    VerifySettings,
    WaveConfig,
)
from evacuate.config.parse import parse_duration
from evacuate.config.sample import render_reference, render_sample
from evacuate.config.validate import Problem, load_schema
from evacuate.errors import ConfigError
from evacuate.transport.spec import HostSpec

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "AcceptedDifference",
    "CommandCheck",
    "Config",
    "ConfigError",
    "DatabaseSettings",
    "Detect",
    "HostConfig",
    "HostSpec",
    "LabSettings",
    "Problem",
    "SQLCheck",
    "SSHSettings",
    "SnapshotSettings",
    "StoreConfig",
    "TargetConfig",
    "URLCheck",
    "VerifySettings",
    "WaveConfig",
    "config_from_data",
    "find_config",
    "load_config",
    "load_schema",
    "parse_duration",
    "render_reference",
    "render_sample",
    "require_config",
]
