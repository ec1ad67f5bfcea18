"""DNS follows the server across two zones at two providers: lab-source's names in
example.test (lab-dns, PowerDNS through dns-lexicon) and in hosted.test (lab-bind, Debian's
BIND 9, changed by RFC 2136 dynamic update signed with a TSIG key, evacuate's own rfc2136
provider). lower-ttl, switch and revert change both, confirmed by asking each server with
dnspython; a wrong TSIG secret, and a key the zone's update-policy does not let change
these names, fail in one line with nothing left switched on either server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evacuate.dns.resolve import Resolver
from evacuate.lab import bindzone, dnszone
from evacuate.lab.lab import Lab, dns_api_url, dns_lab
from tests.lab.conftest import running_lab
from tests.lab.test_dns_lab import (
    LAB_ID,
    LAB_INDEX,
    SWITCHED,
    one_error_line,
    plan_json,
    served,
)
from tests.lab.test_run_lab import write_config as run_config

HOSTED = {"hosted.test", "api.hosted.test"}  # the names of hosted.test that point at the source
ASKED = (("hosted.test", "A"), ("api.hosted.test", "A"), ("status.hosted.test", "A"),
         ("www.hosted.test", "CNAME"), ("hosted.test", "MX"), ("hosted.test", "TXT"),
         ("_acme-challenge.hosted.test", "TXT"))
WRONG_SECRET = "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1sYWItb25lLTEyMzQ="


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    spec = dns_lab(LAB_ID, LAB_INDEX)
    with running_lab(LAB_ID, LAB_INDEX, tmp_path_factory.mktemp("bind-lab"), spec) as it:
        yield it


def write_config(lab: Lab, folder: Path, *, key_name: str = bindzone.KEY_NAME) -> Path:
    """example.test through the default provider (PowerDNS), hosted.test through rfc2136;
    the TSIG secret comes from the environment (see :func:`evacuate`)."""
    config = run_config(lab, folder)
    with config.open("a") as out:
        out.write(
            f"dns:\n  resolvers: [{lab.address('lab-dns')}, {lab.address('lab-bind')}]\n"
            "  lowered_ttl: 120\n  switch_timeout: 30\n"
            "  names: [www.hosted.test, api.hosted.test, status.hosted.test]\n"
            f"  provider: powerdns\n  provider_options:\n    pdns_server: {dns_api_url(lab)}\n"
            f"  zones:\n    {bindzone.ZONE}:\n      provider: rfc2136\n      provider_options:\n"
            f"        server: {lab.address('lab-bind')}\n        key_name: {key_name}\n"
            f"        key_algorithm: {bindzone.KEY_ALGORITHM}\n")
    return config


def evacuate(config: Path, *args: str, secret: str = bindzone.KEY_SECRET,
             timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LEXICON_", "EVACUATE_RFC2136_"))}
    env["LEXICON_POWERDNS_AUTH_TOKEN"] = dnszone.API_KEY
    env["EVACUATE_RFC2136_KEY_SECRET"] = secret
    done = subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=timeout, check=False, env=env)
    for secret_text in (dnszone.API_KEY, bindzone.KEY_SECRET, bindzone.ACME_KEY_SECRET,
                        WRONG_SECRET):
        assert secret_text not in done.stdout + done.stderr  # never printed
    return done


def hosted(lab: Lab) -> dict[tuple[str, str], tuple[int, tuple[str, ...]]]:
    """What lab-bind answers now for hosted.test's names, asked of it directly."""
    server = lab.address("lab-bind")
    resolver = Resolver((server,))
    found = {}
    for name, rtype in ASKED:
        answer = resolver.ask(server, name, rtype)
        assert answer.rcode == "NOERROR" and answer.authoritative, answer
        rrset = answer.rrset(name, rtype)
        assert rrset is not None, (name, rtype)
        found[(name, rtype)] = (rrset.ttl, rrset.values)
    return found


def both(lab: Lab) -> dict[tuple[str, str], tuple[int, tuple[str, ...]]]:
    return {**served(lab), **hosted(lab)}


@pytest.fixture(scope="module")
def planned(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return plan_json(write_config(lab, tmp_path_factory.mktemp("dns-bind")), evacuate)


def test_the_plan_finds_the_records_in_both_zones(lab: Lab, planned) -> None:
    _config, plan = planned
    records = {r["name"]: r for r in plan["dns"]["records"]}
    assert set(records) == SWITCHED | HOSTED
    assert records["hosted.test"]["zone"] == "hosted.test"
    assert records["hosted.test"]["via"] == ["www.hosted.test"]  # its CNAME
    assert records["api.hosted.test"]["ttl"] == 7200
    other, target = lab.spec.network.address(99), lab.address("lab-target")
    assert records["api.hosted.test"]["new_values"] == sorted([other, target])
    zones = {z["name"]: z["servers"] for z in plan["dns"]["zones"]}
    assert zones == {"example.test": [lab.address("lab-dns")],
                     "hosted.test": [lab.address("lab-bind")]}


def test_lower_the_ttl_switch_and_revert_in_both_zones(lab: Lab, planned) -> None:
    config, _plan = planned
    before = both(lab)
    source, target = lab.address("lab-source"), lab.address("lab-target")
    other = lab.spec.network.address(99)
    assert before[("api.hosted.test", "A")] == (7200, tuple(sorted([source, other])))

    lowered = evacuate(config, "dns", "lower-ttl", "source")
    assert lowered.returncode == 0, lowered.stderr
    now = both(lab)
    assert now[("hosted.test", "A")] == (120, (source,))
    assert now[("api.hosted.test", "A")] == (120, tuple(sorted([source, other])))
    for name in SWITCHED:
        assert now[(name, "A")] == (120, (source,)), name
    untouched = [key for key in before if key[0] not in SWITCHED | HOSTED or key[1] != "A"]
    assert {k: now[k] for k in untouched} == {k: before[k] for k in untouched}

    dry = evacuate(config, "dns", "switch", "--dry-run")
    assert dry.returncode == 0 and "would switch" in dry.stdout, dry.stderr
    assert both(lab) == now

    switched = evacuate(config, "dns", "switch", "--json")
    assert switched.returncode == 0, switched.stderr
    outcome = json.loads(switched.stdout)
    assert {c["after"]["name"] for c in outcome["changes"]} == SWITCHED | HOSTED
    assert {s["server"] for s in outcome["seen"]} == {lab.address("lab-dns"),
                                                       lab.address("lab-bind")}
    now = both(lab)
    assert now[("hosted.test", "A")] == (120, (target,))
    assert now[("api.hosted.test", "A")] == (120, tuple(sorted([other, target])))
    for name in SWITCHED:
        assert now[(name, "A")] == (120, (target,)), name
    assert {k: now[k] for k in untouched} == {k: before[k] for k in untouched}

    reverted = evacuate(config, "dns", "revert")
    assert reverted.returncode == 0, reverted.stderr
    assert both(lab) == before  # the addresses and the TTLs from before lower-ttl


def test_a_wrong_tsig_secret_fails_in_one_line_with_nothing_switched(lab: Lab, planned) -> None:
    config, _plan = planned
    before = both(lab)
    journal = config.parent / "state/dns/journal.json"
    entries = json.loads(journal.read_text())["changes"] if journal.exists() else []
    done = evacuate(config, "dns", "switch", secret=WRONG_SECRET)
    assert done.returncode == 1
    assert one_error_line(done) == (
        f"error: zone hosted.test (rfc2136 at {lab.address('lab-bind')}): checking the key "
        f"failed: the server refused the signature of TSIG key {bindzone.KEY_NAME} "
        "(a wrong secret or algorithm)")
    assert both(lab) == before
    assert (json.loads(journal.read_text())["changes"] if journal.exists() else []) == entries


def test_a_key_the_update_policy_refuses_puts_back_the_other_zone(
        lab: Lab, planned, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The ACME client's key is valid (the check passes) but may change _acme-challenge TXT
    records only: the first change in hosted.test is refused, after example.test's four
    were switched, and those are put back."""
    folder = tmp_path_factory.mktemp("dns-bind-acme")
    config = write_config(lab, folder, key_name=bindzone.ACME_KEY_NAME)
    assert evacuate(config, "plan", "source", "--to", "target").returncode == 0
    before = both(lab)
    done = evacuate(config, "dns", "switch", secret=bindzone.ACME_KEY_SECRET)
    assert done.returncode == 1
    assert one_error_line(done) == (
        f"error: zone hosted.test (rfc2136 at {lab.address('lab-bind')}): changing "
        "api.hosted.test A failed: the server refused the update (its allow-update or "
        f"update-policy does not let key {bindzone.ACME_KEY_NAME} make it)")
    assert "4 change(s) made were put back" in done.stderr
    assert both(lab) == before
    journal = json.loads((folder / "state/dns/journal.json").read_text())["changes"]
    assert len(journal) == 4 and all(c["reverted"] for c in journal)
