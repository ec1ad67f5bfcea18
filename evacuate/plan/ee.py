"""The rendered project's ``execution-environment.yml`` (ansible-builder, format version 3):
an image that runs the project's jobs on an execution node or in AWX, with evacuate's wheel
(from the project's ``wheels/``), its Python dependencies, the ansible-core and
ansible-runner evacuate uses, and the project's evacuate.migrate collection."""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

from evacuate.errors import EvacuateError

BASE_IMAGE = "quay.io/fedora/fedora:41"
"""A base with a Python evacuate supports (>= 3.11) and dnf, as ansible-builder expects."""

WHEELS = "wheels"
"""The project's directory for evacuate's wheel (``pip wheel --no-deps -w wheels CHECKOUT``)."""


def wheel_name() -> str:
    """The file name of this evacuate's wheel (pure Python: one for every platform)."""
    return f"evacuate-{_version()}-py3-none-any.whl"


def _version() -> str:
    try:
        return metadata.version("evacuate")
    except metadata.PackageNotFoundError:
        raise EvacuateError("evacuate is not installed (its metadata names the wheel and "
                            "its dependencies): install it with pip") from None


def python_requirements() -> list[str]:
    """evacuate's own dependencies (its extras left out), as its metadata names them."""
    found = metadata.requires("evacuate") or []
    return [r.split(";", 1)[0].strip() for r in found if "extra ==" not in r]


def pinned(requirements: list[str], name: str) -> str:
    """The installed version of ``name`` (one of ``requirements``) as a pin: the image gets
    the ansible-core and ansible-runner this controller runs (the streaming protocol is not
    version-checked between the two)."""
    if not any(re.split(r"[<>=!~ ]", r, maxsplit=1)[0] == name for r in requirements):
        raise EvacuateError(f"evacuate does not depend on {name}")
    return f"{name}=={metadata.version(name)}"


def execution_environment() -> dict[str, Any]:
    """The definition (ansible-builder v3)."""
    requirements = python_requirements()
    wheel = wheel_name()
    return {
        "version": 3,
        "images": {"base_image": {"name": BASE_IMAGE}},
        "dependencies": {
            "python_interpreter": {"package_system": "python3.11",
                                   "python_path": "/usr/bin/python3.11"},
            "ansible_core": {"package_pip": pinned(requirements, "ansible-core")},
            "ansible_runner": {"package_pip": pinned(requirements, "ansible-runner")},
            "python": [f"evacuate @ file:///build/{WHEELS}/{wheel}",
                       *(r for r in requirements
                         if not r.startswith(("ansible-core", "ansible-runner")))],
            "galaxy": {"collections": [{"name": "/build/evacuate-migrate", "type": "dir"}]},
            "system": ["openssh-clients [platform:rpm]"],
        },
        "additional_build_files": [
            {"src": "collections/ansible_collections/evacuate/migrate",
             "dest": "evacuate-migrate"},
            {"src": f"{WHEELS}/{wheel}", "dest": WHEELS},
        ],
        # the builder stage installs the Python requirements: the wheel must be there too
        "additional_build_steps": {"prepend_builder": [f"COPY _build/{WHEELS} /build/{WHEELS}"]},
    }
