"""Switching record sets all or nothing, the journal, and the wait for every server; with
an in-memory zone and servers that answer what it holds (or not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.dns.model import Answer, DnsPlan, PlannedRecord, RecordSet, Zone
from evacuate.dns.provider import ProviderSettings, _mask
from evacuate.dns.switch import (
    Change,
    Journal,
    NotPropagated,
    apply_all,
    lower_ttl_changes,
    put_back,
    switch_changes,
    wait_until_answered,
)
from evacuate.errors import EvacuateError

SRC, DST = "192.0.2.10", "198.51.100.20"


class Refused(EvacuateError):
    pass


class FakeZone:
    """A provider's zone: record sets by (name, type); ``refuse`` names a record it will not
    change."""

    def __init__(self, sets: dict[tuple[str, str], RecordSet], refuse: str = "") -> None:
        self.sets = sets
        self.refuse = refuse
        self.calls: list[str] = []

    def record_set(self, name: str, rtype: str) -> RecordSet | None:
        return self.sets.get((name, rtype))

    def replace(self, name: str, rtype: str, values: tuple[str, ...], ttl: int) -> None:
        self.calls.append(f"{name} {' '.join(values)} {ttl}")
        if name == self.refuse:
            raise Refused(f"zone: changing {name} refused")
        self.sets[(name, rtype)] = RecordSet(name, rtype, ttl, values)


def zone() -> FakeZone:
    return FakeZone({
        ("www.example.org", "A"): RecordSet("www.example.org", "A", 3600, (SRC,)),
        ("shop.example.org", "A"): RecordSet("shop.example.org", "A", 86400, (SRC, "192.0.2.99")),
        ("mx.example.org", "A"): RecordSet("mx.example.org", "A", 300, (SRC,)),
    })


def plan(*names: str) -> DnsPlan:
    return DnsPlan((SRC,), (DST, "2001:db8::20"), records=tuple(
        PlannedRecord("example.org", n, "A", 0, (SRC,), (DST,)) for n in names))


def test_a_switch_replaces_only_the_sources_address_and_skips_what_is_switched() -> None:
    fake = zone()
    fake.sets[("mx.example.org", "A")] = RecordSet("mx.example.org", "A", 300, (DST,))
    changes = switch_changes(plan("www.example.org", "shop.example.org", "mx.example.org"),
                             lambda _z: fake)
    assert [(c.before.name, c.after.values, c.after.ttl) for c in changes] == [
        ("www.example.org", (DST,), 3600), ("shop.example.org", ("192.0.2.99", DST), 86400)]
    back = switch_changes(plan("mx.example.org"), lambda _z: fake, back=True)
    assert back[0].after.values == (SRC,)


def test_lower_ttl_touches_only_longer_ttls() -> None:
    changes = lower_ttl_changes(plan("www.example.org", "mx.example.org"), lambda _z: zone(), 300)
    assert [(c.after.name, c.after.ttl, c.after.values) for c in changes] == [
        ("www.example.org", 300, (SRC,))]


def test_a_refused_change_puts_back_every_change_made_before_it(tmp_path: Path) -> None:
    fake = zone()
    fake.refuse = "mx.example.org"
    changes = switch_changes(plan("www.example.org", "shop.example.org", "mx.example.org"),
                             lambda _z: fake)
    journal = Journal(tmp_path / "journal.json")
    with pytest.raises(Refused) as refused:
        apply_all(changes, lambda _z: fake, journal)
    assert refused.value.hint == "2 change(s) made were put back"
    assert fake.sets == zone().sets
    # newest first
    assert fake.calls[-2:] == [f"shop.example.org {SRC} 192.0.2.99 86400",
                               f"www.example.org {SRC} 3600"]
    assert [e["reverted"] for e in journal.entries()] == [True, True]
    assert journal.open_changes() == []


def test_a_failed_confirmation_puts_everything_back(tmp_path: Path) -> None:
    fake = zone()
    changes = switch_changes(plan("www.example.org"), lambda _z: fake)

    def never(_changes: object) -> None:
        raise NotPropagated("not answered")

    with pytest.raises(NotPropagated):
        apply_all(changes, lambda _z: fake, Journal(tmp_path / "j.json"), never)
    assert fake.sets == zone().sets


def test_the_journal_reverts_exactly_what_was_changed_newest_first(tmp_path: Path) -> None:
    fake = zone()
    journal = Journal(tmp_path / "journal.json")
    p = plan("www.example.org", "shop.example.org")
    apply_all(lower_ttl_changes(p, lambda _z: fake, 120), lambda _z: fake, journal)
    apply_all(switch_changes(p, lambda _z: fake), lambda _z: fake, journal)
    assert fake.sets[("www.example.org", "A")] == RecordSet("www.example.org", "A", 120, (DST,))
    open_changes = journal.open_changes()
    assert [c.op for _i, c in open_changes] == ["switch", "switch", "lower-ttl", "lower-ttl"]
    assert put_back(open_changes, lambda _z: fake, journal) == []
    assert fake.sets == zone().sets
    assert journal.open_changes() == []


class Servers:
    """Authoritative servers answering from a zone; ``stale`` ones keep the old values."""

    def __init__(self, current: dict[str, RecordSet], stale: set[str]) -> None:
        self.current = current
        self.stale = stale
        self.old = dict(current)

    def zone_for(self, name: str) -> Zone:
        return Zone("example.org", ("ns1", "ns2"), ("192.0.2.53", "192.0.2.54"))

    def ask(self, server: str, qname: str, rtype: str) -> Answer:
        rrset = (self.old if server in self.stale else self.current)[qname]
        return Answer(server, qname, rtype, "NOERROR", True, (rrset,))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_every_server_must_answer_the_new_values_before_the_deadline() -> None:
    before = RecordSet("www.example.org", "A", 300, (SRC,))
    after = RecordSet("www.example.org", "A", 300, (DST,))
    change = Change("switch", "example.org", before, after)
    zones = {"example.org": Servers({}, set()).zone_for("")}
    servers = Servers({"www.example.org": after}, {"192.0.2.54"})
    servers.old["www.example.org"] = before
    clock = Clock()
    with pytest.raises(NotPropagated) as late:
        wait_until_answered([change], zones, servers, 5, poll=1, clock=clock, sleep=clock.sleep)
    assert str(late.value) == "not answered within 5 s: www.example.org A at 192.0.2.54"
    servers.stale.clear()
    seen = wait_until_answered([change], zones, servers, 5, clock=clock, sleep=clock.sleep)
    assert {s.server for s in seen} == {"192.0.2.53", "192.0.2.54"}


def test_provider_option_values_never_appear_in_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEXICON_POWERDNS_AUTH_TOKEN", "s3cret-token")
    settings = ProviderSettings("powerdns", {"pdns_server": "http://ns1.example.org:8081"})
    assert _mask("GET http://ns1.example.org:8081/?key=s3cret-token", settings) == \
        "GET ***/?key=***"
