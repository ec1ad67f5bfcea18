"""The target probe (evacuate/plan/sh/probe_target.sh) run as the target runs it, on the
controller, with an apt-cache that answers for the packages it is asked about."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.plan.probe import probe_target
from evacuate.transport.local import LocalTransport

APT_CACHE = """#!/bin/sh
[ "$1" = policy ] || exit 1
shift
for p in "$@"; do
  case $p in
    absent) printf '%s:\\n  Installed: (none)\\n  Candidate: (none)\\n' "$p" ;;
    *) printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0-%s\\n' "$p" "${#p}" ;;
  esac
done
"""


def test_the_probe_reports_free_space_and_each_packages_candidate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "apt-cache").write_text(APT_CACHE)
    (tools / "apt-get").write_text("#!/bin/sh\nexit 0\n")  # never refresh this machine's lists
    for tool in tools.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{Path('/usr/bin')}:{Path('/bin')}")
    offer = probe_target(LocalTransport(), ["nginx", "it's odd", "absent"])
    assert offer.free_bytes is not None and offer.free_bytes > 0
    assert offer.candidates == {"nginx": "1.0-5", "it's odd": "1.0-8", "absent": None}
