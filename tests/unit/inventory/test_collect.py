"""collect_inventory against THIS machine: a real POSIX sh run through a tiny
Transport that uses subprocess (the lab integration tests run it over SSH)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from evacuate.errors import RemoteCommandError
from evacuate.inventory import collect_inventory, from_json, to_json
from evacuate.inventory.facts import FACTS_BY_NAME
from evacuate.inventory.script import build_script, split_sections
from evacuate.transport.base import Command, CommandResult, RemoteProcess, Transport, render_command


class LocalShTransport(Transport):
    """Runs commands on this machine; enough of a Transport for run_script()."""

    name = "localhost"

    def run(self, command: Command, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = False) -> CommandResult:
        line = render_command(command)
        start = time.monotonic()
        done = subprocess.run(["sh", "-c", line], input=input, capture_output=True,
                              timeout=timeout, check=False)
        return CommandResult(self.name, line, done.returncode, done.stdout, done.stderr,
                             time.monotonic() - start)

    def open_process(self, command: Command) -> RemoteProcess:
        raise NotImplementedError

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> None:
        raise NotImplementedError

    def get(self, remote: str, local: Path) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


needs_debian = pytest.mark.skipif(not Path("/var/lib/dpkg/status").exists(),
                                  reason="needs a dpkg-based machine")

QUICK = [FACTS_BY_NAME[n] for n in ("os", "hardware", "network", "users", "packages_deb",
                                    "sources_apt", "cron", "sysctl", "listeners")]


@needs_debian
def test_collects_this_machine_in_one_round_trip() -> None:
    inv = collect_inventory(LocalShTransport(), host="localhost", timeout=120, facts=QUICK)
    assert inv.os.family == "debian" and inv.os.kernel == os.uname().release
    assert inv.hardware.memory_bytes > 0
    assert any(p.name == "dpkg" for p in inv.packages)
    assert any(u.name == "root" and u.uid == 0 for u in inv.users)
    # sections never run are errors, sections run are not
    assert set(inv.errors) <= {"systemd", "conffiles", "unowned", "postgresql", "mysql", "redis",
                               "sqlite",
                               "nginx", "apache", "certificates", "firewall", "containers", "data",
                               "mail", "host_state", "packagefiles"}
    assert from_json(json.loads(json.dumps(to_json(inv)))) == inv


@needs_debian
@pytest.mark.slow
def test_the_full_script_runs_clean_on_this_machine() -> None:
    inv = collect_inventory(LocalShTransport(), host="localhost", timeout=600)
    assert inv.errors == {}
    assert inv.unowned_files.roots


@pytest.mark.skipif(os.geteuid() != 0 or not os.access("/etc/shadow", os.R_OK),
                    reason="needs root to read /etc/shadow")
def test_no_password_hash_leaves_the_host() -> None:
    hashes = [f.split(":")[1] for f in Path("/etc/shadow").read_text().splitlines()
              if f.count(":") >= 2 and len(f.split(":")[1]) > 2]
    result = LocalShTransport().run_script(build_script([FACTS_BY_NAME["users"]]))
    section = split_sections(result.text)["users"]
    assert section.ok
    for value in hashes:
        assert value not in section.text


def test_a_host_without_sh_output_is_an_error() -> None:
    class Silent(LocalShTransport):
        def run(self, command, *, input=None, timeout=None, check=False):
            return CommandResult(self.name, "sh -s", 127, b"", b"sh: not found", 0.0)

    with pytest.raises(RemoteCommandError, match="no output"):
        collect_inventory(Silent(), host="h")


def test_the_shadow_awk_prints_flags_not_hashes(tmp_path) -> None:
    shadow = tmp_path / "shadow"
    secret = "$y$j9T$abcdefghijklmnop$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcde"
    shadow.write_text(f"alice:{secret}:19800:0:99999:7:::\n"
                      "locked:!$6$salt$hash:19800::::::\nnone:*:19800::::::\nempty::19800::::::\n")
    fact = FACTS_BY_NAME["users"]
    script = fact.script.replace("/etc/shadow", str(shadow))
    patched = type(fact)(name=fact.name, script=script, parse=fact.parse, default=fact.default)
    text = split_sections(LocalShTransport().run_script(build_script([patched])).text)["users"].text
    assert secret not in text and "$6$" not in text
    flags = text.split("@@-- shadow@@\n", 1)[1].split("@@--", 1)[0].splitlines()
    assert flags[:4] == ["alice 1 0 19800 0 99999 7 - -", "locked 0 1 19800 - - - - -",
                         "none 0 1 19800 - - - - -", "empty 0 0 19800 - - - - -"]
