"""Assembling sections into a HostInventory: variants picked by the os section,
failures recorded in ``errors``, never an exception."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from evacuate.inventory.assemble import assemble
from evacuate.inventory.facts import ALL_FACTS
from evacuate.inventory.model import HostInventory
from evacuate.inventory.script import SectionOutput

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "inventory"
NAMES = [fact.name for fact in ALL_FACTS]


def captured(family: str, case: str) -> SectionOutput:
    text = json.loads((FIXTURES / family / f"{case}.json").read_text())["output"]
    return SectionOutput(text=text, rc=0)


def lab_like_sections() -> dict[str, SectionOutput]:
    sections = {name: SectionOutput("", 0) for name in NAMES}
    sections.update({
        "os": captured("os", "debian12_vm"),
        "packages_deb": captured("packages_deb", "debian12_trimmed"),
        "packages_rpm": captured("packages_rpm", "rocky9"),  # rpm installed on Debian
        "sources_apt": captured("sources_apt", "debian12_deb822"),
        "systemd": captured("systemd", "bookworm_web"),
        "listeners": captured("listeners", "bookworm_web"),
        "users": captured("users", "lab_like"),
        "postgresql": captured("postgresql", "online_cluster"),
        "mysql": captured("mysql", "mariadb_bookworm"),
        "nginx": captured("nginx", "debian_sites"),
    })
    return sections


def test_assembles_a_debian_host() -> None:
    inv = assemble(lab_like_sections(), host="web1", collected_at="2024-05-06T10:00:00Z")
    assert inv.errors == {}
    assert inv.os.family == "debian" and inv.os.init == "systemd"
    # the os section picks dpkg even though the rpm section has output too
    assert {p.name for p in inv.packages} >= {"openssh-server", "postgresql"}
    assert "nginx-core" not in {p.name for p in inv.packages}
    assert [d.engine for d in inv.databases] == ["postgresql", "mariadb"]
    assert any(s.name == "app.service" and s.locally_written for s in inv.services)
    assert [t.name for t in inv.timers] == ["apt-daily-upgrade.timer", "apt-daily.timer"]
    assert {u.name for u in inv.users if u.authorized_keys} == {"root", "alice"}
    assert inv.web and inv.web[-1].tls_cert.endswith("fullchain.pem")


def test_failed_timed_out_and_missing_sections_are_errors_not_exceptions() -> None:
    sections = lab_like_sections()
    sections["users"] = SectionOutput("root:x:0:0", rc=1)
    sections["nginx"] = SectionOutput("# configuration file /etc/nginx/nginx.conf:\n", rc=124,
                                      timed_out=True)
    del sections["data"]
    inv = assemble(sections, host="web1", collected_at="2024-05-06T10:00:00Z")
    assert inv.errors["users"] == "exited with status 1"
    assert inv.errors["nginx"].startswith("timed out")
    assert inv.errors["data"].startswith("no output")
    assert inv.users == () and inv.web == () and inv.data_candidates == ()
    assert inv.packages  # the rest survived


def test_unknown_os_takes_the_variant_that_answered() -> None:
    sections = {
        "packages_deb": SectionOutput("", 0),
        "packages_rpm": captured("packages_rpm", "rocky9"),
    }
    inv = assemble(sections, host="h", collected_at="t")
    assert inv.os.family == "unknown"
    assert "nginx" in {p.name for p in inv.packages}
    assert "os" in inv.errors


def test_a_crashing_parser_is_recorded(monkeypatch) -> None:
    from evacuate.inventory.facts import FACTS_BY_NAME
    from evacuate.inventory.facts.base import Fact

    def boom(text: str) -> tuple[()]:
        raise RuntimeError("parser bug")

    broken = Fact(name="cron", script=":", parse=boom, default=tuple)
    monkeypatch.setitem(FACTS_BY_NAME, "cron", broken)
    inv = assemble({"cron": SectionOutput("x", 0)}, host="h", collected_at="t")
    assert inv.errors["cron"] == "could not parse output: RuntimeError: parser bug"


section_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from([
        "@@-- cluster 15 main 5432 online /x@@", "@@-- file /etc/x.sources@@", "@@-- ss@@",
        "@@-- pids@@", "@@-- passwd@@", "@@-- group@@", "@@-- show@@", "Id=x.service",
        "pid=abc\tcgroup=", "tcp LISTEN 0 1 [::]:x *:*", "x:y:z", "a|b|c", "server {", "}",
        "{", ";", "\t\t", "Types: deb", "URIs:", "ii \tx\ty", "total=zz", "-\t", "@reboot",
        "* * * * *", "subject=", "notAfter=garbage", "[section", "P:", "{\"ID\": 1}", "[1,2",
    ]), max_size=30).map("\n".join),
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES),
                       st.tuples(section_text, st.sampled_from([0, 0, 0, 1, 124, None])),
                       max_size=len(NAMES)))
def test_garbage_never_raises(raw: dict[str, tuple[str, int | None]]) -> None:
    sections = {name: SectionOutput(text, rc, timed_out=rc in (124, None))
                for name, (text, rc) in raw.items()}
    inv = assemble(sections, host="h", collected_at="t")
    assert isinstance(inv, HostInventory)
    assert all(isinstance(message, str) for message in inv.errors.values())
