"""The evacuate.migrate modules' documentation, as ansible-doc reads it: it parses (a stray
``: `` in a description once made both modules undocumented), and each module documents
exactly the options its argument spec takes, with the same types and required flags."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[2] / "collections"
STEP = COLLECTIONS / "ansible_collections/evacuate/migrate/plugins/module_utils/evacuate_step.py"
MODULES = ("evacuate.migrate.restore_files", "evacuate.migrate.restore_databases")


def _argument_spec() -> dict[str, dict[str, object]]:
    spec = importlib.util.spec_from_file_location("evacuate_step", STEP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spec_dict: dict[str, dict[str, object]] = module.ARGUMENT_SPEC
    return spec_dict


@pytest.mark.parametrize("name", MODULES)
def test_ansible_doc_reads_each_modules_options_as_its_argument_spec(name: str) -> None:
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    done = subprocess.run([str(ansible_doc), "--json", name], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS)})
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)[name]["doc"]
    assert doc["short_description"] and doc["description"]
    options = doc["options"]
    spec = _argument_spec()
    assert sorted(options) == sorted(spec)
    for option, wanted in spec.items():
        assert options[option].get("type", "str") == wanted["type"], option
        assert bool(options[option].get("required")) == bool(wanted.get("required")), option
