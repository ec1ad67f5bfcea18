"""Finding evacuate.yml, reading it as YAML and building the typed :class:`Config`.

Relative paths are taken relative to the config file's directory; ``~`` expands.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

from evacuate.config.model import (
    DEFAULT_CONCURRENCY,
    HOOK_EVENTS,
    AcceptedDifference,
    CommandCheck,
    Config,
    DatabaseSettings,
    DnsProvider,
    DnsSettings,
    Hook,
    HookSettings,
    HostConfig,
    ImapLogin,
    LabSettings,
    NotifySettings,
    SnapshotSettings,
    SQLCheck,
    SSHSettings,
    StoreConfig,
    TargetConfig,
    URLCheck,
    VerifySettings,
    WaveConfig,
)
from evacuate.config.parse import parse_duration, parse_execution_node
from evacuate.config.validate import problem_lines, show
from evacuate.errors import ConfigError
from evacuate.snapshot.store.url import StoreURL
from evacuate.transport.spec import parse_host_spec
from evacuate.transport.throttle import RateLimit
from evacuate.yamlio import InvalidYAML, load_document

CONFIG_ENV = "EVACUATE_CONFIG"
DEFAULT_CONFIG = Path("evacuate.yml")


def find_config(explicit: Path | None = None) -> Path | None:
    """Return the config file to use: ``explicit``, else $EVACUATE_CONFIG, else
    ./evacuate.yml if it exists, else None. Explicit and env paths need not exist
    (:func:`load_config` then says so)."""
    if explicit is not None:
        return explicit
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def require_config(explicit: Path | None = None) -> Config:
    """Find and load the config (see :func:`find_config`); raise ConfigError if there is none."""
    path = find_config(explicit)
    if path is None:
        raise ConfigError(f"no {DEFAULT_CONFIG} here and ${CONFIG_ENV} is not set; "
                          "run 'evacuate init' to write a commented sample")
    return load_config(path)


def load_config(path: Path) -> Config:
    """Read, validate and return the config at ``path``; raise ConfigError listing every
    problem (or one line when the file is missing, unreadable or not YAML)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; run 'evacuate init' to write a commented sample") from None
    except UnicodeDecodeError as bad:
        raise ConfigError(f"{path}: not UTF-8 text (byte {bad.start})") from None
    except OSError as bad:
        raise ConfigError(f"{path}: cannot read: {bad.strerror or bad}") from None
    try:
        data, duplicates = load_document(text)
    except InvalidYAML as bad:
        raise ConfigError(f"{path}{bad.where}: invalid YAML: {bad.reason}") from None
    if data is None:
        raise ConfigError(f"{path}: empty; run 'evacuate init --force' to write a commented sample")
    return config_from_data(data, path, extra_problems=duplicates)


def config_from_data(data: object, path: Path, *, extra_problems: list[str] | None = None) -> Config:
    """Validate already-parsed YAML ``data`` read from ``path`` and return a Config;
    raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings (key: value), got {show(data)}")
    # An empty section ("verify:" with everything below commented out) means "not set".
    data = {key: value for key, value in data.items() if value is not None}
    try:
        lines = list(extra_problems or []) + problem_lines(data)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    if lines:
        count = f"{len(lines)} problem" + ("s" if len(lines) > 1 else "")
        raise ConfigError(f"{path}: {count}", lines)
    return _build(data, path)


def _build(data: dict[str, Any], path: Path) -> Config:
    """The Config of ``data``, which :func:`problem_lines` found valid."""
    base = path.absolute().parent

    def local(value: str | None) -> Path | None:
        if value is None:
            return None
        return Path(os.path.normpath(base / Path(value).expanduser()))

    ssh = data.get("ssh") or {}
    hosts = {
        name: HostConfig(
            name=name, ssh=parse_host_spec(entry["ssh"]), become=entry.get("become", False),
            include=tuple(entry.get("include", ())), exclude=tuple(entry.get("exclude", ())),
            databases=DatabaseSettings(**(entry.get("databases") or {})), target=entry.get("target"),
            execution_node=parse_execution_node(entry["execution_node"]) if entry.get("execution_node")
            else None)
        for name, entry in (data.get("hosts") or {}).items()
    }
    targets = {
        name: TargetConfig(name=name, ssh=parse_host_spec(entry["ssh"]),
                           become=entry.get("become", False))
        for name, entry in (data.get("targets") or {}).items()
    }
    store: StoreConfig | None = None
    if "store" in data:
        raw = data["store"]
        store = StoreConfig(
            location=StoreURL.parse(raw["url"]).relative_to_base(base),
            endpoint_url=raw.get("endpoint_url"), region=raw.get("region"),
            key_file=local(raw.get("key_file")), key_env=raw.get("key_env"))
    snap = data.get("snapshot") or {}
    verify = data.get("verify") or {}
    groups = {name: tuple(members) for name, members in (data.get("groups") or {}).items()}
    return Config(
        path=path.absolute(),
        state_dir=local(data.get("state_dir", ".evacuate")) or base / ".evacuate",
        ssh=SSHSettings(
            known_hosts=local(ssh.get("known_hosts")), identity_file=local(ssh.get("identity_file")),
            config_file=local(ssh.get("config_file")),
            connect_timeout=float(ssh.get("connect_timeout", 10.0)),
            trust_unknown_hosts=ssh.get("trust_unknown_hosts", False)),
        hosts=MappingProxyType(hosts),
        targets=MappingProxyType(targets),
        store=store,
        snapshot=SnapshotSettings(
            exclude=tuple(snap.get("exclude", ())), include=tuple(snap.get("include", ())),
            with_logs=bool(snap.get("with_logs", False)),
            max_age=parse_duration(snap["max_age"]) if "max_age" in snap else None,
            keep_last=snap.get("keep_last"), keep_daily=snap.get("keep_daily")),
        verify=VerifySettings(
            urls=tuple(URLCheck(**item) for item in verify.get("urls", ())),
            sql=tuple(SQLCheck(**item) for item in verify.get("sql", ())),
            commands=tuple(CommandCheck(**item) for item in verify.get("commands", ())),
            accept=tuple(AcceptedDifference(**item) for item in verify.get("accept", ())),
            imap_logins=tuple(ImapLogin(**item) for item in verify.get("imap_logins", ()))),
        lab=LabSettings(**(data.get("lab") or {})),
        limit_rate=RateLimit.parse(data["limit_rate"]) if "limit_rate" in data else None,
        fleet_limit_rate=(RateLimit.parse(data["fleet_limit_rate"])
                          if "fleet_limit_rate" in data else None),
        hooks=HookSettings(**{event: tuple(
            Hook(run=h["run"], on=h.get("on", "controller"), timeout=float(h.get("timeout", 600)))
            for h in (data.get("hooks") or {}).get(event) or ()) for event in HOOK_EVENTS}),
        notify=NotifySettings(urls=tuple((data.get("notify") or {}).get("urls", ())),
                              on_failure=(data.get("notify") or {}).get("on_failure", True),
                              on_stale=(data.get("notify") or {}).get("on_stale", True)),
        dns=_dns(data["dns"]) if "dns" in data else None,
        groups=MappingProxyType(groups),
        waves=tuple(WaveConfig(
            name=wave["name"], concurrency=wave.get("concurrency", DEFAULT_CONCURRENCY),
            hosts=tuple(dict.fromkeys(h for name in wave["hosts"]
                                      for h in groups.get(name, (name,)))))
            for wave in data.get("waves") or ()),
    )


def _dns(raw: dict[str, Any]) -> DnsSettings:
    lists = ("resolvers", "names", "exclude_names", "source_addresses", "target_addresses")
    return DnsSettings(
        **{key: tuple(raw.get(key, ())) for key in lists},
        long_ttl=raw.get("long_ttl", 3600), lowered_ttl=raw.get("lowered_ttl", 300),
        switch_timeout=raw.get("switch_timeout", 300), provider=raw.get("provider"),
        provider_options=MappingProxyType(dict(raw.get("provider_options") or {})),
        zones=MappingProxyType({
            name.lower().rstrip("."): DnsProvider(
                zone["provider"], MappingProxyType(dict(zone.get("provider_options") or {})))
            for name, zone in (raw.get("zones") or {}).items()}))
