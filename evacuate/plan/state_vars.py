"""The contract variables for the host state (plan.state_model): the packages role writes
the carried apt sources and keys, the base role the locales, the files role hands
``evacuate_host_state`` to the target's state program (roles/files/files/host_state.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from evacuate.plan.state_model import StatePlan
from evacuate.snapshot.manifest import PackageMode


def program_input(state: StatePlan, phase: str, dirs: list[dict[str, Any]] | None = None,
                  modes: Sequence[PackageMode] | None = None) -> dict[str, Any]:
    """The document the target's state program reads: ``phase`` is ``before`` (the files
    are restored next: attributes that would refuse them are lifted) or ``after``;
    ``modes``: the package files' modes to set (None: the plan's)."""
    return {"phase": phase, "farms": [asdict(f) for f in state.farms],
            "sysctl_files": list(state.sysctl_files),
            "attributes": [list(a) for a in state.attributes], "dirs": dirs or [],
            "files": [asdict(m) for m in (state.package_modes if modes is None else modes)]}


def deb_file(name: str, version: str, arch: str) -> str:
    """Where ``evacuate export`` puts a carried .deb in the payload."""
    return f"debs/{name}_{version.replace(':', '%3a')}_{arch}.deb"


def state_vars(state: StatePlan) -> dict[str, Any]:
    return {
        "evacuate_apt_sources": [asdict(s) for s in state.apt_sources],
        "evacuate_apt_keys": [{"path": k.path, "sha256": k.sha256, "data": k.data_base64}
                              for k in state.apt_keys],
        "evacuate_locales": list(state.locales),
        "evacuate_locale_settings": list(state.locale_settings),
        "evacuate_host_state": program_input(state, "after"),
        "evacuate_debs": [{"name": d.name, "version": d.version,
                           "file": deb_file(d.name, d.version, d.arch)} for d in state.debs],
    }
