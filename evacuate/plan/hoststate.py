"""Choose the host state a rebuild sets on the target besides its files (see
plan.state_model): farms, sysctl files, carried apt repositories and keys, locales, file
attributes and hand-installed packages carried as .debs. Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from evacuate.inventory import HostInventory
from evacuate.plan.aptsources import carried_sources
from evacuate.plan.farms import plan_farms
from evacuate.plan.model import PlanWarning
from evacuate.plan.state_model import CarriedDeb, StatePlan
from evacuate.snapshot.manifest import SnapshotManifest

SHOWN = 5


@dataclass(frozen=True)
class StateChoice:
    state: StatePlan
    from_carried: tuple[str, ...]  # manual packages the target's own sources lack, offered
    #                                by a carried repository: installed from there
    missing: tuple[str, ...]  # still offered by nothing the target will have


def _listed(paths: list[str]) -> str:
    more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
    return ", ".join(paths[:SHOWN]) + more


def plan_state(source: HostInventory, manifest: SnapshotManifest, restored: Collection[str],
               missing: Collection[str], texts: Mapping[str, str],
               warnings: list[PlanWarning]) -> StateChoice:
    """``restored``: the paths the files step restores; ``missing``: manual packages the
    target's sources do not offer; ``texts``: small files of the snapshot by path."""
    sources, keys = carried_sources(source, texts, warnings)
    carried = {d.name: d for d in manifest.debs}
    debs = tuple(CarriedDeb(d.name, d.version, d.arch) for name in sorted(missing)
                 if (d := carried.get(name)) is not None)
    offered = set(source.state.third_party) if sources else set()
    from_carried = tuple(sorted(n for n in missing if n not in carried and n in offered))
    still = tuple(sorted(n for n in missing if n not in carried and n not in from_carried))
    if debs:
        warnings.append(PlanWarning("package-carried", f"{len(debs)} packages no repository "
                                    "offers are installed from the snapshot's .deb: "
                                    + _listed([f"{d.name} {d.version}" for d in debs]), "info"))
    if from_carried:
        warnings.append(PlanWarning("package-carried-repo", "offered only by the carried "
                                    "third-party repositories: " + _listed(list(from_carried)),
                                    "info"))
    attributes = tuple((a.path, a.flags) for a in source.state.attributes)
    kept = tuple(a for a in attributes if a[0] in restored)
    if attributes:
        warnings.append(PlanWarning("file-attributes", f"{len(attributes)} files are immutable "
                                    "or append-only on the source (lsattr): "
                                    + _listed([f"{p} (+{f})" for p, f in attributes])
                                    + (f"; set again on the {len(kept)} restored ones"
                                       if kept else "; none of them is restored")))
    return StateChoice(
        state=StatePlan(
            farms=plan_farms(source, manifest.files),
            sysctl_files=tuple(sorted({s.file for s in source.sysctl if s.file})),
            apt_sources=sources, apt_keys=keys, locales=source.state.locales,
            locale_settings=source.state.locale_settings, attributes=kept, debs=debs,
            package_modes=manifest.package_modes),
        from_carried=from_carried, missing=still)
