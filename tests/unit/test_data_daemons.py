"""A data daemon no engine dumps (mongod, slapd, valkey) is named in the plan: its files are
copied while it runs; one an engine dumps (redis, PostgreSQL) or whose data is files made
for it (a mail server) is not."""

from __future__ import annotations

from evacuate.engines.daemons import found_data_stores, undumped_warnings
from evacuate.inventory.model import HostInventory, Listener, Package, Service


def test_only_the_data_daemons_no_engine_dumps_are_warned_about() -> None:
    source = HostInventory(
        host="s", collected_at="x",
        packages=(Package("mongodb-server", "1"), Package("redis-server", "7"),
                  Package("postfix", "3"), Package("slapd", "2")),
        services=(Service("mongod.service", "enabled", "active"),
                  Service("slapd.service", "disabled", "inactive")),
        listeners=(Listener("tcp", "127.0.0.1", 27017, process="mongod", unit="mongod.service"),
                   Listener("tcp", "127.0.0.1", 6379, process="redis-server",
                            unit="redis-server.service")))
    found = {f.store.label: f for f in found_data_stores(source)}
    assert set(found) == {"mongodb", "redis", "mail", "LDAP directory"}
    assert found["mongodb"].ports == (27017,) and found["mongodb"].units == ("mongod.service",)
    assert found["LDAP directory"].units == ()  # installed, its unit disabled
    lines = undumped_warnings(source)
    assert len(lines) == 2
    assert lines[0].startswith("mongodb (mongod.service, port 27017) keeps data evacuate "
                               "cannot dump natively")
    assert "a cutover stops it before the final copy" in lines[0]
    assert lines[1].startswith("LDAP directory keeps data")
    assert undumped_warnings(HostInventory(host="t", collected_at="x")) == []
