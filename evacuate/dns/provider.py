"""Editing a zone through a dns-lexicon provider (the only module of ours that imports
lexicon, and requests for the errors its providers raise).

Options follow lexicon's conventions: ``LEXICON_<PROVIDER>_<OPTION>`` environment variables
(``LEXICON_POWERDNS_AUTH_TOKEN``) win over evacuate.yml's ``dns.provider_options``. No
option value ever appears in a message: errors name the zone, the provider and the
server's status, with every option value masked.

The provider is made directly from lexicon's provider class for the zone evacuate found
(lexicon's Client would guess the zone from the public suffix list, fetched from the
internet, or ask the system's resolver).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from lexicon.config import ConfigResolver, DictConfigSource, EnvironmentConfigSource
from lexicon.interfaces import Provider

from evacuate.dns.model import RecordSet
from evacuate.dns.switch import ProviderError
from evacuate.errors import EvacuateError


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    options: Mapping[str, str | int | bool]

    def secrets(self) -> list[str]:
        """Every option value this provider may use (evacuate.yml's and the environment's),
        to mask in messages."""
        prefix = f"LEXICON_{self.name.upper()}_"
        values = [str(v) for v in self.options.values()]
        values += [v for k, v in os.environ.items() if k.startswith(prefix)]
        return [v for v in values if len(v) >= 4]


def _mask(text: str, settings: ProviderSettings) -> str:
    for secret in settings.secrets():
        text = text.replace(secret, "***")
    return text


def _reason(error: Exception) -> str:
    if isinstance(error, requests.HTTPError) and error.response is not None:
        response = error.response
        detail = ""
        try:
            body = response.json()
            detail = str(body.get("error") or body.get("message") or "") if isinstance(
                body, dict) else ""
        except ValueError:
            detail = response.text[:200].strip()
        status = f"HTTP {response.status_code}"
        if response.status_code in (401, 403):
            return f"{status}: the provider refused the credentials"
        return f"{status}{': ' + detail if detail else ''}"
    if isinstance(error, requests.ConnectionError):
        return "cannot connect to the provider's API"
    if isinstance(error, requests.Timeout):
        return "the provider's API did not answer in time"
    return f"{type(error).__name__}: {error}"


class ZoneEditor:
    """One zone through one lexicon provider: read and replace record sets."""

    def __init__(self, settings: ProviderSettings, zone: str) -> None:
        self.settings = settings
        self.zone = zone
        try:
            module = importlib.import_module(f"lexicon._private.providers.{settings.name}")
        except ModuleNotFoundError as missing:
            known = missing.name == f"lexicon._private.providers.{settings.name}"
            raise ProviderError(
                f"dns-lexicon has no provider {settings.name!r}" if known else
                f"dns-lexicon's provider {settings.name!r} needs {missing.name}, which is not "
                "installed", hint="see evacuate.yml dns.provider" if known else
                f"pip install 'dns-lexicon[{settings.name}]'") from None
        self._provider_class: type[Provider] = module.Provider

    def _config(self, ttl: int | None) -> ConfigResolver:
        values: dict[str, Any] = {"provider_name": self.settings.name, "domain": self.zone,
                                  self.settings.name: dict(self.settings.options)}
        if ttl is not None:
            values["ttl"] = ttl
        resolver = ConfigResolver()
        resolver.with_config_source(EnvironmentConfigSource())
        resolver.with_config_source(DictConfigSource(values))
        return resolver

    @contextmanager
    def _session(self, what: str, ttl: int | None = None) -> Iterator[Provider]:
        try:
            provider = self._provider_class(self._config(ttl))
            provider.authenticate()
            yield provider
        except EvacuateError:
            raise
        except Exception as error:  # providers raise anything: requests', their own
            raise ProviderError(_mask(f"zone {self.zone} ({self.settings.name}): {what} "
                                      f"failed: {_reason(error)}", self.settings)) from None

    def check(self) -> None:
        """Log in and read the zone; ProviderError when refused."""
        with self._session("reading the zone"):
            pass

    def record_set(self, name: str, rtype: str) -> RecordSet | None:
        """The provider's view of ``name``/``rtype`` (None: no such records)."""
        with self._session(f"reading {name} {rtype}") as provider:
            found = provider.list_records(rtype, name, None)
        if not found:
            return None
        return RecordSet(name, rtype, int(found[0].get("ttl") or 0),
                         tuple(sorted(str(r["content"]).rstrip(".") for r in found)))

    def replace(self, name: str, rtype: str, values: tuple[str, ...], ttl: int) -> None:
        """Make ``name``/``rtype`` hold exactly ``values`` with ``ttl`` (lexicon's
        delete-then-create: providers set a record set's TTL when they create it)."""
        with self._session(f"changing {name} {rtype}", ttl) as provider:
            provider.delete_record(None, rtype, name, None)
            for value in values:
                provider.create_record(rtype, name, value)
