"""evacuate.yml's groups and waves: typed in order with groups expanded, every problem one
line at its key, and the waves chosen by --all, --wave and names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evacuate.config import Config, ConfigError, config_from_data
from evacuate.config.model import WaveConfig
from evacuate.errors import UsageError
from evacuate.fleet.model import REST, FleetHost, select_waves


def _data(**extra: Any) -> dict[str, Any]:
    return {"hosts": {name: {"ssh": f"root@{name}.example.org", "target": f"new-{name}"}
                      for name in ("web1", "web2", "db1", "mail")},
            "targets": {f"new-{name}": {"ssh": f"root@new-{name}.example.org"}
                        for name in ("web1", "web2", "db1", "mail")}, **extra}


def _config(**extra: Any) -> Config:
    return config_from_data(_data(**extra), Path("evacuate.yml"))


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        config_from_data(data, Path("evacuate.yml"))
    return raised.value.problems


FLEET = {"groups": {"web": ["web1", "web2"]},
         "waves": [{"name": "canary", "hosts": ["db1"], "concurrency": 1},
                   {"name": "main", "hosts": ["web"]}]}


def test_waves_are_typed_in_order_with_groups_expanded() -> None:
    config = _config(groups={"web": ["web2", "web1"]},
                     waves=[{"name": "canary", "hosts": ["db1"], "concurrency": 1},
                            {"name": "main", "hosts": ["web", "web1"]}])
    assert config.waves == (WaveConfig("canary", ("db1",), 1),
                            WaveConfig("main", ("web2", "web1"), 4))
    assert config.groups == {"web": ("web2", "web1")}


@pytest.mark.parametrize(("extra", "expected"), [
    ({"waves": [{"name": "w", "hosts": ["web9"]}]},
     "At 'waves[0].hosts[0]': no host or group named 'web9' (hosts: db1, mail, web1, web2)"),
    ({"groups": {"web": ["web1", "wbe2"]}},
     "At 'groups.web[1]': no host named 'wbe2' (hosts: db1, mail, web1, web2)"),
    ({"groups": {"web1": ["web2"]}},
     "At 'groups.web1': a host is named 'web1' too: give the group another name"),
    ({"waves": [{"name": "a", "hosts": ["web1"]}, {"name": "b", "hosts": ["web1"]}]},
     "At 'waves[1].hosts[0]': host 'web1' is in wave 'a' already"),
    ({"waves": [{"name": "a", "hosts": ["web1"]}, {"name": "a", "hosts": ["web2"]}]},
     "At 'waves[1].name': another wave is named 'a'"),
    ({"waves": [{"name": "a", "hosts": ["web1"], "concurrency": 0}]},
     "At 'waves[0].concurrency': must be at least 1; got 0"),
    ({"waves": [{"name": "a"}]}, "At 'waves[0]': missing required key 'hosts'"),
    ({"waves": [{"name": "a", "hosts": ["web1"], "parallel": 2}]},
     "At 'waves[0].parallel': unknown key; expected one of: concurrency, hosts, name"),
])
def test_each_fleet_problem_is_one_line_at_its_key(extra: dict[str, Any], expected: str) -> None:
    assert _problems(_data(**extra)) == [expected]


def test_a_host_in_a_wave_needs_a_target() -> None:
    data = _data(waves=[{"name": "a", "hosts": ["web1", "web2"]}])
    del data["hosts"]["web2"]["target"]
    assert _problems(data) == [
        "At 'waves[0].hosts[1]': host 'web2' has no target (set hosts.web2.target)"]


def test_a_host_twice_in_one_wave_is_not_a_problem() -> None:
    config = _config(groups={"web": ["web1", "web2"]},
                     waves=[{"name": "a", "hosts": ["web", "web1"]}])
    assert config.waves[0].hosts == ("web1", "web2")


def _names(waves: tuple[Any, ...]) -> list[tuple[str, list[str], int]]:
    return [(w.name, [h.name for h in w.hosts], w.concurrency) for w in waves]


def test_all_is_every_wave_in_order_then_the_rest() -> None:
    waves = select_waves(_config(**FLEET), everything=True)
    assert _names(waves) == [("canary", ["db1"], 1), ("main", ["web1", "web2"], 4),
                             (REST, ["mail"], 4)]
    assert waves[0].hosts[0] == FleetHost("db1", "new-db1", "canary")


def test_without_waves_all_is_one_wave_of_every_host() -> None:
    assert _names(select_waves(_config(), everything=True)) == [
        (REST, ["web1", "web2", "db1", "mail"], 4)]


def test_one_wave_and_names_keep_the_waves_order() -> None:
    config = _config(**FLEET)
    assert _names(select_waves(config, wave="main")) == [("main", ["web1", "web2"], 4)]
    assert _names(select_waves(config, names=("mail", "web2", "db1"))) == [
        ("canary", ["db1"], 1), ("main", ["web2"], 4), (REST, ["mail"], 4)]
    assert _names(select_waves(config, names=("web",))) == [("main", ["web1", "web2"], 4)]


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"wave": "nope"}, "no wave named 'nope' (waves: canary, main, rest)"),
    ({"names": ("web7",)}, "no host or group named 'web7' in evacuate.yml"),
    ({}, "choose the hosts: --all, --wave NAME, or host and group names"),
    ({"everything": True, "wave": "main"},
     "choose the hosts: --all, --wave NAME, or host and group names"),
])
def test_a_bad_choice_is_one_line(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(UsageError) as raised:
        select_waves(_config(**FLEET), **kwargs)
    assert raised.value.message == expected


def test_a_chosen_host_without_a_target_is_refused() -> None:
    data = _data()
    del data["hosts"]["mail"]["target"]
    with pytest.raises(UsageError, match="host 'mail' has no target"):
        select_waves(config_from_data(data, Path("evacuate.yml")), everything=True)
