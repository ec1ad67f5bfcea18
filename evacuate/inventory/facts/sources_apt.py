"""Fact family ``sources_apt``: apt sources (one-line .list and deb822 .sources) and
the signing keyrings they reference (public keys, carried as base64 so the target
can trust the same third-party repositories)."""

from __future__ import annotations

import re

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import Keyring, PackageSources, Repository

_OPTIONS_RE = re.compile(r"^\[([^\]]*)\]\s*")


def parse_one_line(path: str, text: str) -> list[Repository]:
    """The entries of a one-line sources.list text (commented-out ones as disabled)."""
    repos = []
    for raw in text.splitlines():
        line = raw.strip()
        enabled = True
        if line.startswith("#"):
            # A commented-out entry is kept as disabled: it says what the admin knew of.
            candidate = line.lstrip("#").strip()
            if not candidate.startswith(("deb ", "deb-src ", "deb [", "deb-src [")):
                continue
            line, enabled = candidate, False
        kind, _, rest = line.partition(" ")
        if kind not in ("deb", "deb-src"):
            continue
        options: dict[str, str] = {}
        rest = rest.strip()
        match = _OPTIONS_RE.match(rest)
        if match:
            for opt in match.group(1).split():
                key, _, value = opt.partition("=")
                options[key] = value
            rest = rest[match.end():]
        fields = rest.split()
        if len(fields) < 2:
            continue
        signed_by = tuple(v for v in options.pop("signed-by", "").split(",") if v)
        repos.append(Repository(
            kind=kind, uris=(fields[0],), suites=(fields[1],), components=tuple(fields[2:]),
            file=path, enabled=enabled, signed_by=signed_by, options=options,
        ))
    return repos


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, ""
        elif line.startswith("#"):
            continue
        elif line[0] in " \t" and key:
            current[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def _deb822(path: str, text: str) -> list[Repository]:
    repos = []
    for stanza in _deb822_stanzas(text):
        uris = tuple(stanza.pop("uris", "").split())
        if not uris:
            continue
        suites = tuple(stanza.pop("suites", "").split())
        components = tuple(stanza.pop("components", "").split())
        enabled = stanza.pop("enabled", "yes").lower() not in ("no", "false", "0")
        signed = stanza.pop("signed-by", "")
        if "BEGIN PGP PUBLIC KEY BLOCK" in signed:
            signed_by: tuple[str, ...] = ("<inline key>",)
        else:
            signed_by = tuple(signed.split())
        for kind in stanza.pop("types", "deb").split():
            repos.append(Repository(
                kind=kind, uris=uris, suites=suites, components=components, file=path,
                enabled=enabled, signed_by=signed_by, options=dict(stanza),
            ))
    return repos


def parse(text: str) -> PackageSources:
    """Parse the ``sources_apt`` section."""
    repos: list[Repository] = []
    keyrings: list[Keyring] = []
    for part in split_parts(text):
        if part.kind == "file":
            parser = _deb822 if part.args.endswith(".sources") else parse_one_line
            repos += parser(part.args, part.text)
        elif part.kind == "keyring":
            digest, _, path = part.args.partition(" ")
            keyrings.append(Keyring(path=path, sha256=digest,
                                    data_base64="".join(part.text.split())))
    return PackageSources(repositories=tuple(repos), keyrings=tuple(keyrings))


FACT = Fact(name="sources_apt", script=snippet("sources_apt"), parse=parse, default=PackageSources, timeout=30)
