"""JSON form of the inventory model: ``to_json`` / ``from_json``, versioned.

The conversion is driven by the dataclasses' type hints, so adding a field to a
part needs no code here. Missing keys take the field default (older documents
stay readable); unknown keys are ignored; a newer ``schema_version`` is refused.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any, TypeVar, Union

from evacuate.inventory.model import SCHEMA_VERSION, HostInventory

T = TypeVar("T")


class InventoryFormatError(ValueError):
    """A JSON document is not a HostInventory this version can read."""


def to_jsonable(value: Any) -> Any:
    """Return ``value`` (a model part, tuple, dict or scalar) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def to_json(inventory: HostInventory) -> dict[str, Any]:
    """Return ``inventory`` as a JSON-ready dict (``json.dumps`` can write it)."""
    data: dict[str, Any] = to_jsonable(inventory)
    return data


def from_json(data: dict[str, Any]) -> HostInventory:
    """Rebuild a HostInventory from :func:`to_json` output; raise InventoryFormatError
    if the document is not an inventory or has a newer schema version."""
    if not isinstance(data, dict) or "host" not in data:
        raise InventoryFormatError("not an inventory document (no 'host')")
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise InventoryFormatError(
            f"inventory schema version {version!r} is newer than this evacuate reads "
            f"({SCHEMA_VERSION})"
        )
    return from_jsonable(HostInventory, data)


def from_jsonable(kind: type[T], data: Any) -> T:
    """Convert JSON data to an instance of ``kind`` (a model part); raise
    InventoryFormatError where the data does not fit the type."""
    result: T = _decode(kind, data, "$")
    return result


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(kind: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any:
        return data
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        for arg in args:
            if arg is not type(None):
                return _decode(arg, data, where)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise InventoryFormatError(f"at {where}: expected an object for {kind.__name__}")
        hints = _hints(kind)
        values = {
            f.name: _decode(hints[f.name], data[f.name], f"{where}.{f.name}")
            for f in dataclasses.fields(kind)
            if f.name in data
        }
        try:
            return kind(**values)
        except TypeError as exc:
            raise InventoryFormatError(f"at {where}: {exc}") from None
    if origin is tuple:
        if not isinstance(data, list | tuple):
            raise InventoryFormatError(f"at {where}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise InventoryFormatError(f"at {where}: expected {len(args)} items")
        return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
    if origin is dict:
        if not isinstance(data, dict):
            raise InventoryFormatError(f"at {where}: expected an object")
        return {str(k): _decode(args[1], v, f"{where}.{k}") for k, v in data.items()}
    if kind is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if kind in (str, int, bool) and type(data) is kind:
        return data
    raise InventoryFormatError(f"at {where}: expected {getattr(kind, '__name__', kind)}, "
                               f"got {type(data).__name__}")
