"""Golden tests for every fact family's parser (pyinfra style).

Each tests/fixtures/inventory/<family>/<case>.json holds ``output`` (the raw text
the family's snippet printed), ``expected`` (the parsed value as JSON) and
``source`` (where the output was captured). One test runs them all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evacuate.inventory.facts import ALL_FACTS, FACTS_BY_NAME
from evacuate.inventory.serialize import to_jsonable

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "inventory"
CASES = sorted(FIXTURES.glob("*/*.json"))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_fact_parses_captured_output(path: Path) -> None:
    case = json.loads(path.read_text())
    assert case.get("source"), "every fixture says where its output came from"
    fact = FACTS_BY_NAME[path.parent.name]
    assert to_jsonable(fact.parse(case["output"])) == case["expected"]


def test_every_family_has_a_golden_case() -> None:
    covered = {p.parent.name for p in CASES}
    assert {fact.name for fact in ALL_FACTS} <= covered


@pytest.mark.parametrize("fact", ALL_FACTS, ids=lambda f: f.name)
def test_empty_output_parses_to_the_default(fact) -> None:
    assert to_jsonable(fact.parse("")) == to_jsonable(fact.default())
