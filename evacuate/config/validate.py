"""Validation of parsed evacuate.yml data: the schema (``schema.yaml``) catches shapes
and types, the semantic checks here catch what a schema cannot (a host's target must
exist; durations, SSH addresses and store URLs must parse). Problems come out as one
line each, ``At 'hosts.web1.ssh': message`` (list items as ``[0]``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from evacuate.config.parse import parse_duration, parse_execution_node
from evacuate.dns import rfc2136
from evacuate.errors import ConfigError, UsageError
from evacuate.snapshot.store.url import StoreURL
from evacuate.transport.spec import parse_host_spec
from evacuate.transport.throttle import RateLimit
from evacuate.yamlio import load as load_yaml

Problem = tuple[str, str]  # (dotted path, message)


@cache
def load_schema() -> dict[str, Any]:
    """Return the parsed config schema (package data ``evacuate/config/schema.yaml``)."""
    text = resources.files("evacuate.config").joinpath("schema.yaml").read_text(encoding="utf-8")
    schema: dict[str, Any] = load_yaml(text)
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def problem_lines(data: dict[Any, Any]) -> list[str]:
    """Return every problem of ``data`` (a mapping read from evacuate.yml) as sorted
    ``At '...': ...`` lines; empty when it is valid. May raise RecursionError."""
    problems = [p for error in _validator().iter_errors(data) for p in _describe(error, data)]
    reported = {where for where, _ in problems}
    problems += [p for p in _semantic_problems(data) if p[0] not in reported]
    return _format(problems)


# --- schema errors as sentences --------------------------------------------------------

_TYPES = {"string": "a string", "object": "a mapping (key: value)", "array": "a list",
          "integer": "a whole number", "number": "a number", "boolean": "true or false",
          "null": "nothing"}
SECRET_PATHS = ("notify.urls",)
"""Values that may hold secrets (an Apprise URL's password or token): never shown. (A DNS
provider's options have no pattern, and a value of the wrong type shows as its kind.)"""
_PATTERNS = {
    "^[A-Za-z0-9][A-Za-z0-9._-]*$": "must start with a letter or digit and contain only "
                                    "letters, digits, '.', '_' and '-'",
    "^/": "must be an absolute path (start with /)",
    "^https?://": "must start with http:// or https://",
    "^[A-Za-z_][A-Za-z0-9_]*$": "must be an environment variable name (letters, digits, _)",
    "^[A-Za-z][A-Za-z0-9+]*://": "must be an Apprise URL (scheme://...)",
}


def _dotted(data: object, keys: Iterable[object]) -> str:
    """The path to a value as ``hosts.web1.include[0]`` (walking ``data`` to tell list
    indices from mapping keys)."""
    where, node = "", data
    for key in keys:
        if isinstance(node, list) and isinstance(key, int):
            where, node = f"{where}[{key}]", node[key] if 0 <= key < len(node) else None
        else:
            where = _join(where, key)
            node = node.get(key) if isinstance(node, dict) else None
    return where


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _describe(error: jsonschema.ValidationError, data: object) -> Iterator[Problem]:
    path = _dotted(data, error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.relative_schema_path:
        path = _join(path, instance)
        prefix = "invalid name: "
    else:
        prefix = ""
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        for key in instance:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(known)}"
                yield _join(path, key), f"unknown key; {hint}"
    elif kind == "required" and isinstance(instance, dict):
        for key in value if isinstance(value, list) else []:
            if key not in instance:
                yield path, f"missing required key '{key}'"
    elif kind == "type":
        examples = schema.get("examples") or []
        first = examples[0] if examples else None
        example = f" (e.g. {first})" if isinstance(first, str | int | float) else ""
        yield path, f"{prefix}expected {_TYPES.get(str(value), str(value))}{example}, got {show(instance)}"
    elif kind == "enum":
        choices = ", ".join(show(v) for v in value) if isinstance(value, list) else str(value)
        yield path, f"must be one of: {choices}; got {show(instance)}"
    elif kind == "pattern":
        shown = "the URL" if path.startswith(SECRET_PATHS) else show(instance)  # never a secret
        yield path, f"{prefix}{shown} {_PATTERNS.get(str(value), f'must match {value}')}"
    elif kind == "minLength":
        yield path, "must not be empty"
    elif kind in ("minimum", "maximum", "exclusiveMinimum"):
        word = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than"}[kind]
        yield path, f"must be {word} {value}; got {show(instance)}"
    else:
        yield path, prefix + error.message


def show(value: object) -> str:
    """``value`` as a user sees it in a problem: short, with YAML's words for its kind."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str | int | float):
        text = repr(value) if isinstance(value, str) else str(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return type(value).__name__


def _format(problems: list[Problem]) -> list[str]:
    lines: list[str] = []
    for path, message in sorted(problems):
        line = f"At '{path}': {message}" if path else f"At top level: {message}"
        if line not in lines:
            lines.append(line)
    return lines


# --- checks beyond the schema ----------------------------------------------------------

def _semantic_problems(data: dict[Any, Any]) -> Iterator[Problem]:
    """Problems the schema cannot see; only looks at parts that have the right shape
    (the schema reports the others)."""
    hosts, targets = _mapping(data.get("hosts")), _mapping(data.get("targets"))
    for section, entries in (("hosts", hosts), ("targets", targets)):
        for name, entry in entries.items():
            if isinstance(spec := _mapping(entry).get("ssh"), str):
                try:
                    parse_host_spec(spec)
                except UsageError as bad:
                    yield f"{section}.{name}.ssh", bad.message
    for name, entry in hosts.items():
        if isinstance(node := _mapping(entry).get("execution_node"), str):
            try:
                parse_execution_node(node)
            except UsageError as bad:
                yield f"hosts.{name}.execution_node", bad.message
        target = _mapping(entry).get("target")
        if isinstance(target, str) and target not in targets:
            known = (f"defined: {', '.join(sorted(map(str, targets)))}" if targets
                     else "none are defined under 'targets'")
            yield f"hosts.{name}.target", f"no target named '{target}' ({known})"
    max_age = _mapping(data.get("snapshot")).get("max_age")
    if isinstance(max_age, str):
        try:
            if parse_duration(max_age) <= timedelta():
                yield "snapshot.max_age", "must be longer than zero"
        except ValueError as bad:
            yield "snapshot.max_age", str(bad)
    for key in ("limit_rate", "fleet_limit_rate"):
        if isinstance(rate := data.get(key), str):
            try:
                RateLimit.parse(rate)
            except ValueError as bad:
                yield key, str(bad)
    store = _mapping(data.get("store"))
    if isinstance(url := store.get("url"), str):
        try:
            if not StoreURL.parse(url).is_s3:
                for key in ("endpoint_url", "region"):
                    if key in store:
                        yield f"store.{key}", "only applies to s3:// stores"
        except ConfigError as bad:
            yield "store.url", str(bad)
    if "key_file" in store and "key_env" in store:
        yield "store", "set either key_file or key_env, not both"
    yield from _fleet_problems(data, hosts)
    yield from _dns_problems(_mapping(data.get("dns")))
    commands = _mapping(data.get("verify")).get("commands")
    for index, check in enumerate(commands if isinstance(commands, list) else []):
        host = _mapping(check).get("host")
        if isinstance(host, str) and host not in hosts and host not in targets:
            yield f"verify.commands[{index}].host", f"no host or target named '{host}'"


def _fleet_problems(data: dict[Any, Any], hosts: dict[Any, Any]) -> Iterator[Problem]:
    """Groups name hosts; waves name hosts or groups, each host in one wave at most, and a
    host that moves in a wave needs a target."""
    groups = _mapping(data.get("groups"))
    for name, members in groups.items():
        if name in hosts:
            yield f"groups.{name}", f"a host is named '{name}' too: give the group another name"
        for index, member in enumerate(members if isinstance(members, list) else []):
            if isinstance(member, str) and member not in hosts:
                yield f"groups.{name}[{index}]", f"no host named '{member}' ({_known(hosts)})"
    waves = data.get("waves")
    seen: dict[str, int] = {}  # host -> the number of its wave
    seen_name: dict[str, str] = {}
    names: set[str] = set()
    for number, wave in enumerate(waves if isinstance(waves, list) else []):
        wave = _mapping(wave)
        if isinstance(name := wave.get("name"), str):
            if name in names:
                yield f"waves[{number}].name", f"another wave is named '{name}'"
            names.add(name)
        members = wave.get("hosts")
        for index, member in enumerate(members if isinstance(members, list) else []):
            if not isinstance(member, str):
                continue
            where = f"waves[{number}].hosts[{index}]"
            if member not in hosts and member not in groups:
                yield where, f"no host or group named '{member}' ({_known(hosts)})"
                continue
            inside = groups.get(member) if member in groups else [member]
            for host in inside if isinstance(inside, list) else []:
                if host not in hosts:
                    continue  # named under groups
                if seen.get(host, number) != number:
                    yield where, f"host '{host}' is in wave '{seen_name[host]}' already"
                elif not isinstance(_mapping(hosts[host]).get("target"), str):
                    yield where, f"host '{host}' has no target (set hosts.{host}.target)"
                seen.setdefault(host, number)
                seen_name.setdefault(host, str(wave.get("name")))


def _dns_problems(dns: dict[Any, Any]) -> Iterator[Problem]:
    """rfc2136's options (the default provider's, each zone's) are its own; a zone is named
    once."""
    providers = [("dns", dns)]
    seen: dict[str, str] = {}
    for name, zone in _mapping(dns.get("zones")).items():
        providers.append((f"dns.zones.{name}", _mapping(zone)))
        key = str(name).lower().rstrip(".")
        if key in seen:
            yield f"dns.zones.{name}", f"the same zone as '{seen[key]}'"
        seen.setdefault(key, str(name))
    for where, provider in providers:
        if provider.get("provider") == rfc2136.NAME:
            options = _mapping(provider.get("provider_options"))
            for option, problem in rfc2136.option_problems(options):
                yield f"{where}.provider_options.{option}", problem


def _known(hosts: dict[Any, Any]) -> str:
    return f"hosts: {', '.join(sorted(map(str, hosts)))}" if hosts else "no hosts are defined"


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}
