"""State, not just files (issue 12, item 4), on the lab: lab-source gets what a real server
has and a package install does not reproduce: a site it disabled and units it disabled
(the target's packages enable them), a live sysctl setting, a signed third-party apt
repository with a package from it, a package installed by hand from a .deb, a sudoers
drop-in with comments, a private directory chain, a generated locale and an immutable
file. After snapshot → plan → run each is found on lab-target as the source has it."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.lab import aptrepo
from evacuate.lab.lab import Lab
from tests.lab.test_run_lab import write_config

THIRD_PARTY = "evtest-thirdparty"
HANDMADE = "evtest-handmade"
SOURCES = ("# the shop's vendor repository (signed)\nTypes: deb\nURIs: http://{gw}:{port}/\n"
           "Suites: evtest\nComponents: main\nSigned-By: /etc/apt/keyrings/evtest.gpg\n")
SUDOERS = ("# bob restarts the notes app, nothing else\n# (reviewed 2026-11)\n"
           "Defaults:bob !lecture\n\nbob ALL=(root) NOPASSWD: /usr/bin/systemctl restart notes\n")
SYSCTL = ("# keepalive for the shop's load balancer\nnet.ipv4.tcp_keepalive_time = 600\n"
          "net.evtest.no_such_key = 1\n")
PLANT = r"""
set -e
printf '%s' "$KEYRING" | base64 -d > /etc/apt/keyrings/evtest.gpg
printf '%s' "$SOURCES" > /etc/apt/sources.list.d/evtest.sources
printf 'deb [trusted=yes] %s ./\n' "$LABREPO" > /etc/apt/sources.list.d/lab.list
apt-get update -q >/dev/null 2>&1 || true   # deb.debian.org is out of reach: the others load
DEBIAN_FRONTEND=noninteractive apt-get install -y -q evtest-thirdparty >/dev/null
dpkg -i /tmp/evtest-handmade.deb >/dev/null && rm -f /tmp/evtest-handmade.deb
printf '%s' "$SYSCTL" > /etc/sysctl.d/60-evtest.conf
sysctl -q -w net.ipv4.tcp_keepalive_time=600
printf '%s' "$SUDOERS" > /etc/sudoers.d/evtest-bob && chmod 0440 /etc/sudoers.d/evtest-bob
visudo -c -q
mkdir -p -m 0755 /etc/letsencrypt
mkdir -m 0700 /etc/letsencrypt/accounts
mkdir -p -m 0700 /etc/letsencrypt/accounts/acme-v02/directory/0a1b
printf '{"kty": "RSA"}\n' > /etc/letsencrypt/accounts/acme-v02/directory/0a1b/private_key.json
chmod 0600 /etc/letsencrypt/accounts/acme-v02/directory/0a1b/private_key.json
printf '# tuning for the shop\n' > /etc/nginx/conf.d/evtest.conf && chmod 0750 /etc/nginx/conf.d
printf 'server { listen 8081; }\n' > /etc/nginx/sites-available/old.example.test
systemctl disable -q postgresql.service e2scrub_reap.service
systemctl mask -q e2scrub_all.timer
sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen
locale-gen >/dev/null
printf 'kept as it is\n' > /etc/evtest-immutable.conf && chattr +i /etc/evtest-immutable.conf
"""
UNLOCK = "chattr -i /etc/evtest-immutable.conf 2>/dev/null; true"


def _deb(folder: Path, name: str, version: str, files: dict[str, str],
         conffiles: tuple[str, ...] = ()) -> Path:
    root = folder / f"{name}-build"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Lab <lab@test>\n"
        f"Description: {name} for the state lab test\n")
    if conffiles:
        (root / "DEBIAN/conffiles").write_text("".join(f"{c}\n" for c in conffiles))
    for path, content in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(0o755 if "/bin/" in path else 0o644)
    deb = folder / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)],
                   capture_output=True, check=True)
    return deb


def _evacuate(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=1500, check=False)


def _on(lab: Lab, host: str, command: str) -> str:
    with lab.open(host) as transport:
        return transport.run(command, timeout=120, check=True).text


@pytest.fixture(scope="module")
def evacuated(lab: Lab, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[dict[str, object], str]]:
    folder = tmp_path_factory.mktemp("state")
    gateway = lab.spec.network.gateway
    port = aptrepo.repo_port(lab.spec.index) + 100
    aptrepo.make_signing_key(folder / "gnupg", "evacuate state test <state@lab.test>")
    third = _deb(folder, THIRD_PARTY, "1.0", {"/usr/share/evtest-thirdparty/marker": "vendor\n"})
    keyring = aptrepo.signed_repository(folder / "repo", "evtest", [third], folder / "gnupg")
    aptrepo.serve(folder / "repo", gateway, port, folder / "repo.pid", folder / "repo.log")
    handmade = _deb(folder, HANDMADE, "2.1-1", {
        "/usr/bin/evtest-handmade": "#!/bin/sh\necho handmade 2.1\n",
        "/etc/evtest-handmade.conf": "mode = shop\n"}, conffiles=("/etc/evtest-handmade.conf",))
    lab.reset("lab-source")
    lab.reset("lab-target")
    try:
        with lab.open("lab-source") as source:
            source.put(handmade, "/tmp/evtest-handmade.deb")
            env = {"KEYRING": base64.b64encode(keyring.read_bytes()).decode(),
                   "SOURCES": SOURCES.format(gw=gateway, port=port), "SUDOERS": SUDOERS,
                   "SYSCTL": SYSCTL,
                   "LABREPO": f"http://{gateway}:{aptrepo.repo_port(lab.spec.index)}/bookworm"}
            exports = "".join(f"{k}={_quote(v)}; export {k}; " for k, v in env.items())
            planted = source.run(["sh", "-c", exports + PLANT], timeout=600)
            assert planted.ok, planted.error_text
        config = write_config(lab, folder)
        planned = _evacuate(config, "plan", "source", "--to", "target", "--json")
        assert planned.returncode == 0, planned.stderr[-3000:]
        ran = _evacuate(config, "run")
        (folder / "run.log").write_text(ran.stdout + ran.stderr)
        assert ran.returncode == 0, (ran.stdout + ran.stderr)[-4000:]
        yield json.loads(planned.stdout), ran.stdout + ran.stderr
    finally:
        for host in ("lab-source", "lab-target"):  # an immutable file blocks the lab's clean-up
            with lab.open(host) as transport:
                transport.run(UNLOCK, timeout=60)
        aptrepo.stop(folder / "repo.pid")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def test_the_plan_names_what_it_carries(evacuated: tuple[dict[str, object], str]) -> None:
    plan, _ = evacuated
    state = plan["state"]
    assert isinstance(state, dict)
    assert [d["name"] for d in state["debs"]] == [HANDMADE]
    assert [s["path"] for s in state["apt_sources"]] == ["/etc/apt/sources.list.d/evtest.sources"]
    assert THIRD_PARTY in plan["packages"]  # type: ignore[operator]
    codes = {w["code"] for w in plan["warnings"]}  # type: ignore[attr-defined]
    assert {"package-carried", "file-attributes"} <= codes and "package-missing" not in codes


def test_farms_end_as_the_sources(lab: Lab, evacuated: tuple[dict[str, object], str]) -> None:
    # nginx's package enabled its default site on the target; the source had removed it
    assert _on(lab, "lab-target", "ls /etc/nginx/sites-enabled").split() == \
        _on(lab, "lab-source", "ls /etc/nginx/sites-enabled").split()
    assert "old.example.test" in _on(lab, "lab-target", "ls /etc/nginx/sites-available")
    # postgresql's package enabled its unit, e2scrub_reap came enabled with the image
    states = "systemctl is-enabled postgresql.service e2scrub_reap.service e2scrub_all.timer; true"
    assert _on(lab, "lab-target", states).split() == ["disabled", "disabled", "masked"]
    aliases = "find /etc/systemd/system -maxdepth 1 -type l -name 'mysql*' -printf '%f %l\\n'"
    assert _on(lab, "lab-target", aliases) == _on(lab, "lab-source", aliases)
    assert _on(lab, "lab-target", "systemctl is-active postgresql@15-main").strip() == "active"


def test_sysctl_is_applied_live(lab: Lab, evacuated: tuple[dict[str, object], str]) -> None:
    _, output = evacuated
    assert _on(lab, "lab-target", "sysctl -n net.ipv4.tcp_keepalive_time").strip() == "600"
    assert "no_such_key" in output  # a warning (the key is unknown), and the run went on


def _sha(lab: Lab, host: str, paths: str) -> str:
    return _on(lab, host, f"sha256sum {paths}")


def test_third_party_repository_and_its_package(lab: Lab,
                                                evacuated: tuple[dict[str, object], str]) -> None:
    paths = "/etc/apt/sources.list.d/evtest.sources /etc/apt/keyrings/evtest.gpg"
    assert _sha(lab, "lab-target", paths) == _sha(lab, "lab-source", paths)
    assert _on(lab, "lab-target", f"dpkg-query -W -f='${{Status}}' {THIRD_PARTY}") == \
        "install ok installed"
    # the distribution's own sources stay the target's
    assert "lab.list" not in _on(lab, "lab-target", "ls /etc/apt/sources.list.d")


def test_hand_installed_package_is_installed(lab: Lab,
                                             evacuated: tuple[dict[str, object], str]) -> None:
    assert _on(lab, "lab-target", f"dpkg-query -W -f='${{Version}}' {HANDMADE}") == "2.1-1"
    assert _on(lab, "lab-target", "evtest-handmade").strip() == "handmade 2.1"


def test_config_bytes_and_private_directories(lab: Lab,
                                              evacuated: tuple[dict[str, object], str]) -> None:
    sudoers = "/etc/sudoers.d/evtest-bob"
    target = _on(lab, "lab-target", f"cat {sudoers}")
    assert hashlib.sha256(target.encode()).hexdigest() == \
        hashlib.sha256(SUDOERS.encode()).hexdigest()
    _on(lab, "lab-target", "visudo -c -q")
    dirs = ("/etc/letsencrypt /etc/letsencrypt/accounts /etc/letsencrypt/accounts/acme-v02 "
            "/etc/letsencrypt/accounts/acme-v02/directory/0a1b /etc/nginx/conf.d")
    listing = f"stat -c '%n %a %U:%G' {dirs}"
    assert _on(lab, "lab-target", listing) == _on(lab, "lab-source", listing)
    assert "/etc/letsencrypt/accounts 700 root:root" in _on(lab, "lab-target", listing)


def test_locale_timezone_and_attributes(lab: Lab,
                                        evacuated: tuple[dict[str, object], str]) -> None:
    assert "de_DE.utf8" in _on(lab, "lab-target", "locale -a").split()
    assert _on(lab, "lab-target", "cat /etc/timezone") == _on(lab, "lab-source",
                                                               "cat /etc/timezone")
    flags = _on(lab, "lab-target", "lsattr /etc/evtest-immutable.conf").split()[0]
    assert "i" in flags
