"""Fact family ``redis``: the local redis server as its configuration file says (port,
data directory) and whether it answers, with its databases (``db0``...) and their key
counts (as their sizes). The password never leaves the host (only whether one is set)."""

from __future__ import annotations

from evacuate.inventory.facts.base import Fact, snippet, to_int
from evacuate.inventory.model import Database, DatabaseServer


def parse(text: str) -> tuple[DatabaseServer, ...]:
    """Parse the ``redis`` section: one DatabaseServer (engine ``redis``) or none."""
    values: dict[str, str] = {}
    databases = []
    for line in text.splitlines():
        fields = line.split("|")
        if fields[0] == "db" and len(fields) == 3:
            databases.append(Database(name=fields[1], size_bytes=to_int(fields[2])))
        elif len(fields) == 2:
            values[fields[0]] = fields[1]
    if "port" not in values:
        return ()
    return (DatabaseServer(engine="redis", version=values.get("version", ""),
                           data_dir=values.get("dir") or "/var/lib/redis",
                           port=to_int(values["port"]), running=values.get("running") == "yes",
                           databases=tuple(databases)),)


FACT = Fact(name="redis", script=snippet("redis"), parse=parse, default=tuple, timeout=60)
