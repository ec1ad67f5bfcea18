"""Each third-party library is imported by one module of ours (docs: style, "each
third-party library behind one module"); the rest of evacuate does not know it. The
CLI framework (typer) is the one exception: every command module of evacuate/cli
declares its commands with it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import evacuate

PACKAGE = Path(evacuate.__file__).parent

IMPORTERS = {
    "paramiko": {"transport/sshlib.py"},
    "boto3": {"snapshot/store/s3.py"},
    "botocore": {"snapshot/store/s3.py"},
    "cryptography": {"cryptolib.py"},
    "yaml": {"yamlio.py"},
    "rich": {"cli/console.py"},
    "jsonschema": {"config/validate.py"},
    "ansible_runner": {"ansible/runner.py"},
    "ansible": {"ansible/vault.py"},
    "click": {"cli/app.py"},
    "apprise": {"notify.py"},
    "dns": {"dns/resolve.py"},
    "lexicon": {"dns/provider.py"},
    "requests": {"dns/provider.py"},
}
PACKAGE_WIDE = {"typer": "cli/"}
STUBS_ONLY = {"_typeshed"}  # typing-time names from the type checker, no library


def _third_party_imports(path: Path) -> set[str]:
    """Top-level names of the non-stdlib, non-evacuate modules ``path`` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names
            and n != "evacuate" and n not in STUBS_ONLY}


def importers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in _third_party_imports(path):
            found.setdefault(name, set()).add(path.relative_to(PACKAGE).as_posix())
    return found


def test_each_library_has_its_one_module() -> None:
    found = importers()
    unknown = set(found) - set(IMPORTERS) - set(PACKAGE_WIDE)
    assert not unknown, f"new third-party imports {unknown}: give each one module (IMPORTERS)"
    for name, modules in found.items():
        if name in PACKAGE_WIDE:
            outside = {m for m in modules if not m.startswith(PACKAGE_WIDE[name])}
            assert not outside, f"{name} imported outside {PACKAGE_WIDE[name]}: {outside}"
        else:
            assert modules == IMPORTERS[name], f"{name} is imported by {sorted(modules)}"


def test_the_scan_sees_imports() -> None:
    """The check above is only as good as the scan: it finds paramiko where it is."""
    assert importers()["paramiko"] == {"transport/sshlib.py"}
    assert "yaml" in _third_party_imports(PACKAGE / "yamlio.py")
