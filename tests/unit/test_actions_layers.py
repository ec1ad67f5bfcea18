"""The actions import each other downward only (see evacuate/actions/__init__.py): a verb
never calls one above it, and none imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import evacuate.actions

LAYERS = [{"source_gone", "verify", "inventory", "lab", "notify"}, {"snapshot"}, {"plan", "export"},
          {"dns"}, {"run", "dry_run"}, {"restore", "fleet"}, {"rehearse"}]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_actions_import_downward_only() -> None:
    folder = Path(evacuate.actions.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    level = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    assert modules == set(level), "every action module has a layer"
    for module in modules:
        imported = _imports(folder / f"{module}.py")
        assert not any(n.startswith("evacuate.cli") for n in imported), module
        used = {n.split(".")[2] for n in imported
                if n.startswith("evacuate.actions.") and n.split(".")[2] in level}
        above = {u for u in used if level[u] >= level[module] and u != module}
        assert not above, f"actions.{module} imports {above}: not below it"
