"""The DNS record planning, on answers captured from the lab's authoritative server
(tests/fixtures/dns/lab-example-test.json: PowerDNS serving evacuate/lab/dnszone.py's
zones, lab-source at 10.231.8.10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evacuate.dns.names import ServedName, host_addresses, served_names
from evacuate.dns.planning import duration, plan_dns
from evacuate.inventory.model import HostInventory, Interface, MailServer, Network, OsInfo
from evacuate.inventory.model_apps import Certificate, VHost
from evacuate.inventory.serialize import from_jsonable
from tests.unit.dnsplan.replay import Replay

FIXTURES = Path(__file__).parents[2] / "fixtures"
CAPTURE = FIXTURES / "dns" / "lab-example-test.json"
SOURCE = "10.231.8.10"
TARGET = ("10.231.8.20", "2001:db8::20")


def lab_inventory() -> HostInventory:
    """lab-source's vhosts and certificates as its captured inventory fixtures parse them."""
    vhosts = json.loads((FIXTURES / "inventory/nginx/lab_source.json").read_text())["expected"]
    certs = json.loads((FIXTURES / "inventory/certificates/lab_source.json").read_text())
    return HostInventory(
        host="lab-source", collected_at="2026-12-03T00:00:00Z",
        network=Network(interfaces=(Interface("lo", addresses=("127.0.0.1/8", "::1/128")),
                                    Interface("host0", addresses=(f"{SOURCE}/24",
                                                                  "fe80::1/64")))),
        web=tuple(from_jsonable(VHost, v) for v in vhosts),
        certificates=tuple(from_jsonable(Certificate, c) for c in certs["expected"]))


def names(*items: str) -> list[ServedName]:
    return [ServedName(n, "test") for n in items]


def test_the_names_lab_source_answers_for_come_from_vhosts_and_certificates():
    found = served_names(lab_inventory())
    assert [n.name for n in found] == ["shop.example.test", "www.shop.example.test",
                                       "www.example.test", "example.test"]
    assert found[0].why == "nginx vhost /etc/nginx/sites-enabled/shop.example.test"
    # the snakeoil certificate's "vm" has no dot: not a DNS name to look up
    assert host_addresses(lab_inventory()) == (SOURCE,)


def test_catch_all_wildcard_regex_and_address_names_are_not_looked_up():
    inventory = HostInventory(
        host="h", collected_at="", os=OsInfo(hostname="mail", fqdn="mail.example.org"),
        web=(VHost("nginx", "/x", ("_", "*.example.org", "~^www\\d+$", "192.0.2.1",
                                   "Shop.Example.org.", "localhost")),),
        certificates=(Certificate("/c", sans=("DNS:shop.example.org", "IP Address:192.0.2.1",
                                              "DNS:*.example.org")),),
        mail=MailServer(queued=0))
    found = served_names(inventory, extra=("extra.example.org",), exclude=("mail.example.org",))
    assert [(n.name, n.why) for n in found] == [
        ("shop.example.org", "nginx vhost /x"), ("extra.example.org", "evacuate.yml dns.names")]
    assert [n.name for n in served_names(inventory)][-1] == "mail.example.org"


def test_the_lab_records_that_point_at_the_source_with_their_ttls():
    plan = plan_dns(served_names(lab_inventory()), [SOURCE], TARGET, Replay.load(CAPTURE))
    records = {(r.name, r.rtype): r for r in plan.records}
    assert set(records) == {("example.test", "A"), ("www.example.test", "A"),
                            ("shop.example.test", "A"), ("mx.example.test", "A")}
    shop = records[("shop.example.test", "A")]
    assert (shop.zone, shop.ttl, shop.values, shop.new_values) == (
        "example.test", 86400, (SOURCE,), ("10.231.8.20",))
    # reached by its own vhost name and through www.shop's CNAME
    assert shop.via == ("shop.example.test", "www.shop.example.test")
    assert records[("mx.example.test", "A")].ttl == 1800
    report = {r.name: r for r in plan.names}
    assert report["www.shop.example.test"].chain == (
        "www.shop.example.test CNAME shop.example.test",)
    assert report["mx.example.test"].chain == ("example.test MX 10 mx.example.test",)
    assert report["mx.example.test"].why == "MX of example.test"
    assert all(r.points_at_source for r in plan.names)
    assert [z.name for z in plan.zones] == ["example.test"]
    assert plan.zones[0].servers == ("10.231.8.53",)


def test_the_longest_ttl_is_the_estimate_and_a_long_ttl_is_warned():
    plan = plan_dns(names("www.example.test", "shop.example.test"), [SOURCE], TARGET,
                    Replay.load(CAPTURE))
    assert plan.max_ttl == 86400
    assert "up to 24 h" in plan.notes[0]
    assert not plan.warnings
    assert list(plan.long_ttls) == ["shop.example.test A has a TTL of 24 h: resolvers keep the source's address "
                    "that long after a switch; lower it ('evacuate dns lower-ttl') at least "
                    "24 h before the cutover"]
    assert not plan_dns(names("www.example.test", "shop.example.test"), [SOURCE], TARGET,
                        Replay.load(CAPTURE), long_ttl=86400).long_ttls


def test_a_cname_into_another_zone_is_followed_there():
    plan = plan_dns(names("cdn.example.test"), [SOURCE], TARGET, Replay.load(CAPTURE))
    cdn = next(r for r in plan.names if r.name == "cdn.example.test")
    assert cdn.chain == ("cdn.example.test CNAME www.static.test",)
    assert cdn.zone == "static.test"
    assert ("static.test", "www.static.test", "A") in {(r.zone, r.name, r.rtype)
                                                      for r in plan.records}


def test_names_elsewhere_missing_or_without_a_zone_are_reported_not_planned():
    plan = plan_dns(names("docs.example.test", "nope.example.test", "www.nowhere.test"),
                    [SOURCE], TARGET, Replay.load(CAPTURE))
    report = {r.name: r for r in plan.names}
    assert not report["docs.example.test"].points_at_source
    assert report["docs.example.test"].addresses == ("10.231.8.99",)
    assert "NXDOMAIN" in report["nope.example.test"].problem
    assert "no zone found for www.nowhere.test" in report["www.nowhere.test"].problem
    assert {r.name for r in plan.records} == {"mx.example.test"}  # the zone's MX still does
    assert any(w.startswith("nope.example.test (test): ") for w in plan.warnings)


def test_a_target_without_that_address_family_keeps_the_record_and_says_so():
    plan = plan_dns(names("www.example.test"), [SOURCE], ("2001:db8::20",), Replay.load(CAPTURE))
    www = next(r for r in plan.records if r.name == "www.example.test")
    assert www.new_values == www.values
    assert "the target has no IPv4 address" in plan.warnings[0]


@pytest.mark.parametrize(("seconds", "text"), [(86400, "24 h"), (600, "10 min"), (45, "45 s"),
                                               (5400, "90 min")])
def test_durations(seconds, text):
    assert duration(seconds) == text
