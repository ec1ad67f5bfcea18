"""The lab for tests: its own id and subnet (10.231.1.0/24) so that it never touches a
demo lab, started once per session and always removed afterwards, also after failures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from evacuate.lab.lab import Lab, LabSpec, default_lab
from evacuate.state import StateDir

# Two test runs at once (e.g. two developers' shells) must not share a lab: either can pick
# another id and subnet index through the environment.
# Under pytest-xdist (`make test` runs two workers, whole modules each) every worker has its
# own shared lab: worker N adds N to the id and 100 + N to the subnet index (the fixed labs of
# single modules use indices below 100).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
TEST_LAB_ID = os.environ.get("EVACUATE_TEST_LAB_ID", "evt") + (str(_WORKER) if _WORKER else "")
TEST_LAB_INDEX = int(os.environ.get("EVACUATE_TEST_LAB_INDEX", "1")) + (100 + _WORKER
                                                                        if _WORKER else 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.lab)


def require_lab_privileges() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("lab tests must run as root in CI")
        pytest.skip("lab tests need root (namespaces, mounts, systemd-nspawn)")


@contextmanager
def running_lab(lab_id: str, index: int, state_dir: Path, spec: LabSpec | None = None
                ) -> Iterator[Lab]:
    """A lab (by default lab-source and lab-target of the default release) up and healthy;
    always removed afterwards."""
    require_lab_privileges()
    the_lab = Lab(spec or default_lab(lab_id=lab_id, index=index), StateDir(state_dir))
    the_lab.down()  # whatever a crashed earlier session left behind
    try:
        statuses = the_lab.up(timeout=240)
        unhealthy = [s for s in statuses if not s.healthy]
        assert not unhealthy, f"lab hosts not healthy: {unhealthy}"
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """lab-source and lab-target, running and healthy."""
    with running_lab(TEST_LAB_ID, TEST_LAB_INDEX, tmp_path_factory.mktemp("lab-state")) as it:
        yield it
