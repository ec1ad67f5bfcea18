"""JSON round trip of the inventory model, and its version guard."""

from __future__ import annotations

import dataclasses
import json

import pytest

from evacuate.inventory.assemble import assemble
from evacuate.inventory.model import SCHEMA_VERSION, HostInventory, User
from evacuate.inventory.serialize import InventoryFormatError, from_json, to_json
from tests.unit.inventory.test_assemble import lab_like_sections


def test_round_trip_through_json_text() -> None:
    inv = assemble(lab_like_sections(), host="web1", collected_at="2024-05-06T10:00:00Z")
    data = json.loads(json.dumps(to_json(inv)))
    assert data["schema_version"] == SCHEMA_VERSION
    assert from_json(data) == inv


def test_missing_keys_take_defaults_and_unknown_keys_are_ignored() -> None:
    inv = from_json({"host": "h", "collected_at": "t", "something_new": 1,
                     "users": [{"name": "a", "uid": 1000, "gid": 1000}]})
    assert inv.users == (User(name="a", uid=1000, gid=1000),)
    assert inv.packages == ()


def test_newer_schema_is_refused() -> None:
    with pytest.raises(InventoryFormatError, match="newer"):
        from_json({"host": "h", "collected_at": "t", "schema_version": SCHEMA_VERSION + 1})


@pytest.mark.parametrize("bad", [
    [],
    {"collected_at": "t"},
    {"host": "h", "collected_at": "t", "users": "root"},
    {"host": "h", "collected_at": "t", "users": [{"name": "a", "uid": "0", "gid": 0}]},
])
def test_malformed_documents_raise_format_errors(bad) -> None:
    with pytest.raises(InventoryFormatError):
        from_json(bad)


def test_no_model_field_can_hold_a_password_hash() -> None:
    def names(cls: type) -> set[str]:
        found = set()
        for field in dataclasses.fields(cls):
            found.add(field.name)
        return found

    for cls in (User, HostInventory):
        assert not {n for n in names(cls) if "hash" in n or n in ("password", "shadow")}
