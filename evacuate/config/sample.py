"""The commented sample evacuate.yml (``evacuate init``) and the Markdown reference
(``evacuate config reference``), both generated from ``schema.yaml``: descriptions
become comments, the first example of each key becomes its value, and keys marked
``x-commented`` are written commented out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

from evacuate.config.validate import load_schema
from evacuate.yamlio import dump_flow

Schema = dict[str, Any]


def _resolve(prop: Schema, root: Schema) -> Schema:
    """Merge a property's ``$ref`` target under its own keywords (its own win)."""
    ref = prop.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return prop
    return {**_resolve(root["$defs"][ref.removeprefix("#/$defs/")], root), **prop}


def _flow(value: object) -> str:
    """``value`` as one line of YAML (flow style, quoted where needed)."""
    return dump_flow(value)


def _comment(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        lines += [f"{indent}# {line}" for line in textwrap.wrap(" ".join(paragraph.split()), 80)]
    return lines


def _object_lines(schema: Schema, root: Schema, indent: str, commented: bool,
                  all_active: bool) -> list[str]:
    lines: list[str] = []
    for key, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, root)
        off = commented or (bool(prop.get("x-commented")) and not all_active)
        lines += _comment(prop.get("description", ""), indent)
        lines += _value_lines(key, prop, root, indent, off, all_active)
        if not indent:
            lines.append("")
    return lines


def _value_lines(key: str, prop: Schema, root: Schema, indent: str, off: bool,
                 all_active: bool) -> list[str]:
    mark = "# " if off else ""
    deeper = indent + "  "
    if "properties" in prop:
        return [f"{indent}{mark}{key}:", *_object_lines(prop, root, deeper, off, all_active)]
    entry, items = prop.get("additionalProperties"), prop.get("items")
    if isinstance(entry, dict) and "x-sample-key" in prop:
        inner = _object_lines(_resolve(entry, root), root, deeper + "  ", off, all_active)
        return [f"{indent}{mark}{key}:", f"{deeper}{mark}{prop['x-sample-key']}:", *inner]
    if isinstance(items, dict) and "properties" in items:
        lines = [f"{indent}{mark}{key}:"]
        for number, (name, raw) in enumerate(_resolve(items, root)["properties"].items()):
            item = _resolve(raw, root)
            lines += _comment(item.get("description", ""), deeper + ("  " if number else ""))
            sub = _value_lines(name, item, root, deeper + "  ", off, all_active)
            if number == 0:  # the first key of a list item carries the "- "
                sub[0] = f"{deeper}{mark}- {sub[0][len(deeper) + 2 + len(mark):]}"
            lines += sub
        return lines
    return [f"{indent}{mark}{key}: {_flow(prop['examples'][0])}"]


def render_sample(*, all_active: bool = False) -> str:
    """Return the commented sample evacuate.yml generated from the schema. With
    ``all_active``, keys marked ``x-commented`` are written active too."""
    schema = load_schema()
    header = [*_comment(schema.get("description", ""), ""), "#",
              "# Written by 'evacuate init'. Check it with 'evacuate config check';",
              "# 'evacuate config reference' describes every key.", ""]
    return "\n".join(header + _object_lines(schema, schema, "", False, all_active)).rstrip() + "\n"


def _walk(schema: Schema, root: Schema, prefix: str) -> Iterator[tuple[str, Schema, bool]]:
    """Yield (path, property schema, required) for every key, depth first."""
    for key, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, root)
        path = f"{prefix}{key}"
        yield path, prop, key in schema.get("required", [])
        entry, items = prop.get("additionalProperties"), prop.get("items")
        if "properties" in prop:
            yield from _walk(prop, root, path + ".")
        elif isinstance(entry, dict):
            yield from _walk(_resolve(entry, root), root, f"{path}.<name>.")
        elif isinstance(items, dict) and "properties" in items:
            yield from _walk(_resolve(items, root), root, f"{path}[].")


def render_reference() -> str:
    """Return a Markdown reference of every key of evacuate.yml, generated from the schema."""
    schema = load_schema()
    lines = [f"# {schema.get('title', 'evacuate.yml')}", "", " ".join(schema["description"].split()), ""]
    for path, prop, required in _walk(schema, schema, ""):
        kind = prop.get("type") or " | ".join(_flow(v) for v in prop.get("enum", []))
        lines += [f"## `{path}`", "", " ".join(prop.get("description", "").split()), "",
                  f"- type: {kind}"]
        if "default" in prop:
            lines.append(f"- default: `{_flow(prop['default'])}`")
        if required:
            lines.append("- required")
        lines += [f"- example: `{_flow(example)}`" for example in prop.get("examples", [])] + [""]
    return "\n".join(lines).rstrip() + "\n"
