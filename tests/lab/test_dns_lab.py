"""DNS follows the server, against a real authoritative server: lab-dns (PowerDNS with its
sqlite3 backend and HTTP API, driven by dns-lexicon's powerdns provider) serving
lab-source's zone. The plan lists the records that point at lab-source with their TTLs;
lower-ttl, switch and revert change them on the server, confirmed by asking it; bad
credentials, a zone the API cannot edit and a server that never answers the change each
fail in one line with nothing left half switched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evacuate.dns.resolve import Resolver
from evacuate.lab import aptrepo, dnszone
from evacuate.lab.lab import Lab, dns_api_url, dns_lab
from tests.lab.conftest import TEST_LAB_ID, TEST_LAB_INDEX, running_lab
from tests.lab.test_run_lab import write_config as run_config

# a lab of its own (lab-source, lab-target, lab-dns), beside the session's shared one
LAB_ID, LAB_INDEX = TEST_LAB_ID + "d", TEST_LAB_INDEX + 40

SWITCHED = {"example.test", "www.example.test", "shop.example.test", "mx.example.test"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    spec = dns_lab(LAB_ID, LAB_INDEX)
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("dns-lab"), spec) as it:
        yield it


def write_config(lab: Lab, folder: Path, *, names: tuple[str, ...] = (),
                 timeout: int = 30) -> Path:
    config = run_config(lab, folder)
    with config.open("a") as out:
        out.write(
            f"dns:\n  resolvers: [{lab.address('lab-dns')}]\n  lowered_ttl: 120\n"
            f"  switch_timeout: {timeout}\n  names: [{', '.join(names)}]\n"
            f"  provider: powerdns\n  provider_options:\n    pdns_server: {dns_api_url(lab)}\n")
    return config


def evacuate(config: Path, *args: str, token: str = dnszone.API_KEY,
             timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEXICON_")}
    env["LEXICON_POWERDNS_AUTH_TOKEN"] = token
    done = subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=timeout, check=False, env=env)
    assert dnszone.API_KEY not in done.stdout + done.stderr  # never printed
    return done


def served(lab: Lab) -> dict[tuple[str, str], tuple[int, tuple[str, ...]]]:
    """What lab-dns answers now for every name of its zones: (name, type) → (TTL, values)."""
    resolver = Resolver((lab.address("lab-dns"),))
    server = lab.address("lab-dns")
    found = {}
    for name in ("example.test", "www.example.test", "shop.example.test", "mx.example.test",
                 "docs.example.test", "www.static.test"):
        rrset = resolver.ask(server, name, "A").rrset(name, "A")
        assert rrset is not None, name
        found[(name, "A")] = (rrset.ttl, rrset.values)
    return found


def original(lab: Lab) -> dict[tuple[str, str], tuple[int, tuple[str, ...]]]:
    source, other = lab.address("lab-source"), lab.spec.network.address(99)
    ttls = {r.name: r.ttl for r in dnszone.example_records(source, "", other) if r.rtype == "A"}
    return {(name, "A"): (ttls.get(name, 3600), (other if name.startswith("docs.") else source,))
            for name in ("example.test", "www.example.test", "shop.example.test",
                         "mx.example.test", "docs.example.test", "www.static.test")}


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return errors[0]


def plan_json(config: Path, run: Callable[..., subprocess.CompletedProcess[str]] = evacuate,
              ) -> tuple[Path, dict]:
    """``evacuate plan --json`` of source onto target with ``config``: (config, the plan)."""
    done = run(config, "plan", "source", "--to", "target", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return config, json.loads(done.stdout)


@pytest.fixture(scope="module")
def planned(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return plan_json(write_config(lab, tmp_path_factory.mktemp("dns")))


def test_the_plan_lists_the_records_that_point_at_the_source(lab: Lab, planned) -> None:
    _config, plan = planned
    records = {r["name"]: r for r in plan["dns"]["records"]}
    assert set(records) == SWITCHED
    assert records["shop.example.test"]["ttl"] == 86400
    assert records["shop.example.test"]["via"] == ["shop.example.test", "www.shop.example.test"]
    assert records["www.example.test"]["new_values"] == [lab.address("lab-target")]
    assert plan["dns"]["max_ttl"] == 86400
    assert plan["dns"]["zones"] == [{"name": "example.test", "nameservers": ["ns1.example.test"],
                                     "servers": [lab.address("lab-dns")]}]
    warnings = [w["message"] for w in plan["warnings"] if w["code"] == "dns-ttl"]
    assert warnings and warnings[0].startswith("shop.example.test A has a TTL of 24 h")
    assert not [w for w in plan["warnings"] if w["code"] == "cert-names"]


def test_the_plan_prints_the_records(lab: Lab, planned) -> None:
    config, _plan = planned
    done = evacuate(config, "plan", "source", "--to", "target")  # from the same snapshot
    assert done.returncode == 0, done.stderr
    assert "DNS: records that point at the source" in done.stdout
    assert (f"example.test\tshop.example.test\tA\t86400\t{lab.address('lab-source')}\t"
            f"{lab.address('lab-target')}\tshop.example.test, www.shop.example.test"
            ) in done.stdout


def test_lower_the_ttl_switch_and_revert(lab: Lab, planned) -> None:
    config, _plan = planned
    before = served(lab)
    assert before == original(lab)
    source, target = lab.address("lab-source"), lab.address("lab-target")

    dry = evacuate(config, "dns", "lower-ttl", "source", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would lower the TTL of" in dry.stdout and "shop.example.test" in dry.stdout
    assert served(lab) == before

    lowered = evacuate(config, "dns", "lower-ttl", "source")
    assert lowered.returncode == 0, lowered.stderr
    now = served(lab)
    for name in SWITCHED:
        assert now[(name, "A")] == (120, (source,)), name
    assert now[("docs.example.test", "A")] == before[("docs.example.test", "A")]

    dry = evacuate(config, "dns", "switch", "--dry-run")
    assert dry.returncode == 0 and "would switch" in dry.stdout, dry.stderr
    assert served(lab) == now

    switched = evacuate(config, "dns", "switch", "--json")
    assert switched.returncode == 0, switched.stderr
    outcome = json.loads(switched.stdout)
    assert {c["after"]["name"] for c in outcome["changes"]} == SWITCHED
    assert {s["server"] for s in outcome["seen"]} == {lab.address("lab-dns")}
    now = served(lab)
    for name in SWITCHED:
        assert now[(name, "A")] == (120, (target,)), name
    assert now[("docs.example.test", "A")] == before[("docs.example.test", "A")]
    assert now[("www.static.test", "A")] == before[("www.static.test", "A")]

    again = evacuate(config, "dns", "switch")
    assert again.returncode == 0 and "nothing to change" in again.stderr

    reverted = evacuate(config, "dns", "revert")
    assert reverted.returncode == 0, reverted.stderr
    assert served(lab) == before  # the addresses and the TTLs from before lower-ttl
    assert "nothing to change" in evacuate(config, "dns", "revert").stderr


def test_a_provider_refusing_the_credentials_changes_nothing(lab: Lab, planned) -> None:
    config, _plan = planned
    before = served(lab)
    done = evacuate(config, "dns", "switch", token="not-the-key")
    assert done.returncode == 1
    assert one_error_line(done) == ("error: zone example.test (powerdns): reading the zone "
                                    "failed: HTTP 401: the provider refused the credentials")
    assert served(lab) == before


def test_a_zone_evacuate_cannot_edit_puts_back_what_was_switched(
        lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("dns-static")
    config = write_config(lab, folder, names=("cdn.example.test",))  # CNAME into static.test
    assert evacuate(config, "plan", "source", "--to", "target").returncode == 0
    before = served(lab)
    done = evacuate(config, "dns", "switch")
    assert done.returncode == 1
    assert one_error_line(done) == (
        "error: zone static.test (powerdns): changing www.static.test A failed: HTTP 422: "
        "Hosting backend does not support editing records.")
    assert "4 change(s) made were put back" in done.stderr  # example.test's, switched first
    assert served(lab) == before
    journal = json.loads((folder / "state/dns/journal.json").read_text())["changes"]
    assert len(journal) == 4 and all(c["reverted"] for c in journal)


def _api(lab: Lab, body: dict) -> None:
    request = urllib.request.Request(
        f"{dns_api_url(lab)}/api/v1/servers/localhost/zones/example.test.",
        data=json.dumps(body).encode(), method="PATCH",
        headers={"X-API-Key": dnszone.API_KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def test_a_server_that_never_answers_the_change_puts_everything_back(
        lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A second name server for the zone that does not answer (nothing is at its address):
    the switch waits dns.switch_timeout, names it, and puts the records back."""
    folder = tmp_path_factory.mktemp("dns-late")
    config = write_config(lab, folder, timeout=4)
    assert evacuate(config, "plan", "source", "--to", "target").returncode == 0
    silent = lab.spec.network.address(98)
    ns = [{"content": "ns1.example.test.", "disabled": False},
          {"content": "ns2.example.test.", "disabled": False}]
    _api(lab, {"rrsets": [
        {"name": "ns2.example.test.", "type": "A", "ttl": 3600, "changetype": "REPLACE",
         "records": [{"content": silent, "disabled": False}]},
        {"name": "example.test.", "type": "NS", "ttl": 3600, "changetype": "REPLACE",
         "records": ns}]})
    try:
        before = served(lab)
        done = evacuate(config, "dns", "switch")
        assert done.returncode == 1
        line = one_error_line(done)
        assert line.startswith("error: not answered within 4 s: ")
        assert f"www.example.test A at {silent}" in line
        assert lab.address("lab-dns") not in line  # the live server did answer
        assert "4 change(s) made were put back" in done.stderr
        assert served(lab) == before
    finally:
        _api(lab, {"rrsets": [
            {"name": "ns2.example.test.", "type": "A", "changetype": "DELETE", "records": []},
            {"name": "example.test.", "type": "NS", "ttl": 3600, "changetype": "REPLACE",
             "records": ns[:1]}]})


# certbot from the lab repository (dns_lab() puts it there), its timer enabled by the package
CERTBOT = """set -e
echo "deb [trusted=yes] {repo} ./" > /tmp/lab.list
apt="apt-get -q -o Dir::Etc::sourcelist=/tmp/lab.list -o Dir::Etc::sourceparts=-"
$apt update >/dev/null
DEBIAN_FRONTEND=noninteractive $apt install -y --no-install-recommends certbot >/dev/null 2>&1
rm /tmp/lab.list
systemctl is-enabled certbot.timer
"""

TREE = ("cd /etc/letsencrypt && find . -printf '%p %y %m %u:%g %l\\n' | sort && "
        "find . -type f -exec sha256sum {} + | sort")


def _tree(lab: Lab, host: str) -> str:
    with lab.open(host) as transport:
        return transport.run(["sh", "-c", TREE]).text


def test_the_cutover_switches_dns_after_the_target_verified_and_revert_puts_it_back(
        lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Also: certbot installed on the source, with a certbot-shaped /etc/letsencrypt
    (tests/lab/letsencrypt_seed.sh): it arrives intact, the renewal timer is enabled and
    active on the target, and the plan warns about its webroot renewal and its expiry."""
    folder = tmp_path_factory.mktemp("dns-cutover")
    config = write_config(lab, folder)
    with lab.open("lab-source") as source:
        source.run_script(CERTBOT.format(repo=f"http://{lab.spec.network.gateway}:"
                                         f"{aptrepo.repo_port(lab.spec.index)}/bookworm"),
                          check=True, timeout=300)
        source.run_script((Path(__file__).parent / "letsencrypt_seed.sh").read_text(), check=True)
    planned = evacuate(config, "plan", "source", "--to", "target", "--json")
    assert planned.returncode == 0, planned.stderr
    warnings = {w["code"]: w["message"] for w in json.loads(planned.stdout)["warnings"]}
    assert warnings["cert-http01"].startswith(
        "certificate shop.example.test (/etc/letsencrypt/renewal/shop.example.test.conf): "
        "certbot renews it over HTTP-01 (webroot), which fails on the target until DNS for "
        "shop.example.test, www.shop.example.test points at it; it expires ")
    expiring = [w["message"] for w in json.loads(planned.stdout)["warnings"]
                if w["code"] == "cert-expiry"]
    assert any("/etc/letsencrypt/live/shop.example.test/cert.pem" in w for w in expiring)
    before = served(lab)
    ran = evacuate(config, "run", "--cutover", "--json")
    assert ran.returncode == 0, ran.stderr[-3000:]
    outcome = json.loads(ran.stdout)
    assert outcome["cutover"]["verified"]
    assert {c["after"]["name"] for c in outcome["dns"]["changes"]} == SWITCHED
    assert "cutover: DNS: 4 record set(s) switched to the target" in ran.stderr
    now = served(lab)
    for name in SWITCHED:
        assert now[(name, "A")][1] == (lab.address("lab-target"),), name
    source_tree = _tree(lab, "lab-source")
    assert "./live/shop.example.test/cert.pem l 777 root:root " \
        "../../archive/shop.example.test/cert1.pem" in source_tree
    assert "./accounts d 700 root:root" in source_tree
    assert _tree(lab, "lab-target") == source_tree
    with lab.open("lab-target") as target:  # renewals go on there
        timer = target.run("systemctl is-enabled certbot.timer; systemctl is-active "
                           "certbot.timer").text.split()
    assert timer == ["enabled", "active"]
    reverted = evacuate(config, "revert")
    assert reverted.returncode == 0, reverted.stderr
    assert "revert: started" in reverted.stderr
    assert served(lab) == before
