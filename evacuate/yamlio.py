"""YAML, behind one module of ours (PyYAML): safe loading only, with duplicate keys
reported instead of silently keeping the last, and the two styles evacuate writes (block
documents for the Ansible project, one-line flow values for the sample config)."""

from __future__ import annotations

from typing import Any

import yaml


class InvalidYAML(Exception):
    """Text that is not YAML: ``where`` is ``:line:column`` when known (else empty),
    ``reason`` what is wrong, in one line."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


BOOL_TAG, STR_TAG = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:str"


class _Loader(yaml.SafeLoader):
    """A safe loader that records duplicate keys instead of silently keeping the last, and
    keeps a plain key such as ``on`` or ``yes`` a string (YAML 1.1 would make it a boolean:
    a hook's ``on: source`` is a key named on)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == BOOL_TAG \
                    and key_node.style is None:
                key_node.tag = STR_TAG
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    line = key_node.start_mark.line + 1
                    self.duplicates.append(f"At line {line}: duplicate key {key_node.value!r}")
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_document(text: str) -> tuple[Any, list[str]]:
    """Parse one YAML document safely; return its data and one problem line per duplicate
    key. Raise InvalidYAML when ``text`` is not YAML (or nested too deeply)."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        return loader.get_single_data(), loader.duplicates
    except yaml.MarkedYAMLError as bad:
        mark = bad.problem_mark or bad.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise InvalidYAML(where, str(bad.problem or bad.context)) from None
    except yaml.YAMLError as bad:
        raise InvalidYAML("", " ".join(str(bad).split())) from None
    except RecursionError:
        raise InvalidYAML("", "nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def load(text: str) -> Any:
    """Parse trusted YAML (our own package data) safely."""
    return yaml.safe_load(text)


def dump_block(value: Any, width: int = 100) -> str:
    """``value`` as a block-style YAML document, keys in their order, Unicode kept."""
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True,
                          width=width)


def dump_flow(value: object) -> str:
    """``value`` as one line of YAML (flow style, quoted where needed)."""
    return yaml.safe_dump([value], default_flow_style=True, width=10_000).strip()[1:-1]
