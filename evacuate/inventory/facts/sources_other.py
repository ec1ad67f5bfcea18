"""Fact families ``sources_yum`` (/etc/yum.repos.d/*.repo) and ``sources_apk``
(/etc/apk/repositories, /etc/apk/keys)."""

from __future__ import annotations

import configparser

from evacuate.inventory.facts.base import Fact, snippet, split_parts
from evacuate.inventory.model import Keyring, PackageSources, Repository

_TRUE = ("1", "yes", "true", "on")


def parse_yum(text: str) -> PackageSources:
    """Parse the ``sources_yum`` section: one Repository per .repo section."""
    repos = []
    for part in split_parts(text):
        if part.kind != "file":
            continue
        config = configparser.RawConfigParser(strict=False, interpolation=None)
        try:
            config.read_string(part.text, source=part.args)
        except configparser.Error:
            continue
        for name in config.sections():
            options = dict(config.items(name))
            uris = tuple(
                (options.pop("baseurl", "") or "").split()
                or [options.get("mirrorlist", "") or options.get("metalink", "")]
            )
            keys = tuple((options.pop("gpgkey", "") or "").split())
            repos.append(Repository(
                kind="rpm", uris=tuple(u for u in uris if u), file=part.args, name=name,
                enabled=options.pop("enabled", "1").strip().lower() in _TRUE,
                signed_by=keys, options=options,
            ))
    return PackageSources(repositories=tuple(repos))


def parse_apk(text: str) -> PackageSources:
    """Parse the ``sources_apk`` section (``#`` lines are disabled repositories)."""
    repos = []
    keyrings = []
    for part in split_parts(text):
        if part.kind == "file":
            for line in part.text.splitlines():
                uri = line.strip()
                enabled = not uri.startswith("#")
                uri = uri.lstrip("#").strip()
                tag = ""
                if uri.startswith("@"):
                    tag, _, uri = uri.partition(" ")
                if "://" in uri or uri.startswith("/"):
                    repos.append(Repository(kind="apk", uris=(uri.strip(),), file=part.args,
                                            name=tag, enabled=enabled))
        elif part.kind == "keyring":
            digest, _, path = part.args.partition(" ")
            keyrings.append(Keyring(path=path, sha256=digest,
                                    data_base64="".join(part.text.split())))
    return PackageSources(repositories=tuple(repos), keyrings=tuple(keyrings))


YUM_FACT = Fact(name="sources_yum", script=snippet("sources_yum"), parse=parse_yum,
                default=PackageSources, timeout=20)
APK_FACT = Fact(name="sources_apk", script=snippet("sources_apk"), parse=parse_apk,
                default=PackageSources, timeout=20)
