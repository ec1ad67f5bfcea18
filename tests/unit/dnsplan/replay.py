"""Captured DNS answers: a Lookup that records what a real server answered, and one that
replays a capture (tests/fixtures/dns/*.json) for the planner's unit tests.

Capture again from a running dns lab (lab-dns serves the lab's zones):
    .venv/bin/python -m tests.unit.dnsplan.replay RESOLVER OUT.json NAME...
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evacuate.dns.model import Answer, Zone, answer_from_json
from evacuate.dns.planning import Lookup
from evacuate.errors import EvacuateError


class Recording:
    def __init__(self, inner: Lookup) -> None:
        self.inner = inner
        self.zones: dict[str, Any] = {}
        self.answers: list[dict[str, Any]] = []

    def zone_for(self, name: str) -> Zone:
        try:
            zone = self.inner.zone_for(name)
        except EvacuateError as error:
            self.zones[name] = {"error": str(error)}
            raise
        self.zones[name] = asdict(zone)
        return zone

    def ask(self, server: str, qname: str, rtype: str) -> Answer:
        answer = self.inner.ask(server, qname, rtype)
        self.answers.append(asdict(answer))
        return answer

    def dump(self) -> dict[str, Any]:
        return {"zones": self.zones, "answers": self.answers}


class Replay:
    """Answers from a capture; a question the capture lacks fails the test."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.zones = data["zones"]
        self.answers = {(a["server"], a["qname"], a["rtype"]): answer_from_json(a)
                        for a in data["answers"]}

    @classmethod
    def load(cls, path: Path) -> Replay:
        return cls(json.loads(path.read_text()))

    def zone_for(self, name: str) -> Zone:
        zone = self.zones[name]
        if "error" in zone:
            raise EvacuateError(zone["error"])
        return Zone(zone["name"], tuple(zone["nameservers"]), tuple(zone["servers"]))

    def ask(self, server: str, qname: str, rtype: str) -> Answer:
        return self.answers[(server, qname, rtype)]


def main(argv: list[str]) -> None:
    from evacuate.dns.names import ServedName
    from evacuate.dns.planning import plan_dns
    from evacuate.dns.resolve import Resolver

    resolver, out, *names = argv
    recording = Recording(Resolver((resolver,)))
    plan_dns([ServedName(n, "capture") for n in names], (), (), recording)
    Path(out).write_text(json.dumps(recording.dump(), indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
