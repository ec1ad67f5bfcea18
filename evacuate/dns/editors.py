"""Which provider edits which zone (evacuate.yml ``dns.provider`` and ``dns.zones``), and
its editor: dns-lexicon's (evacuate.dns.provider) or rfc2136's (evacuate.dns.rfc2136)."""

from __future__ import annotations

from evacuate.config.model import DnsSettings
from evacuate.dns import rfc2136
from evacuate.dns.provider import ProviderSettings, ZoneEditor
from evacuate.dns.switch import ProviderError, ZoneProvider


def open_editor(zone: str, settings: DnsSettings) -> ZoneProvider:
    """The editor of ``zone`` by the provider evacuate.yml gives it; ProviderError when
    none does, or its options are wrong."""
    provider = settings.provider_for(zone)
    if provider is None:
        raise ProviderError(f"zone {zone}: no provider edits it",
                            hint=f"set dns.provider, or dns.zones.{zone}.provider, in "
                                 "evacuate.yml")
    if provider.name == rfc2136.NAME:
        return rfc2136.Rfc2136Editor(zone, provider.options)
    return ZoneEditor(ProviderSettings(provider.name, provider.options), zone)


class Editors:
    """One editor per zone, made on first use (an ``EditorFor``)."""

    def __init__(self, settings: DnsSettings) -> None:
        self.settings = settings
        self.made: dict[str, ZoneProvider] = {}

    def __call__(self, zone: str) -> ZoneProvider:
        if zone not in self.made:
            self.made[zone] = open_editor(zone, self.settings)
        return self.made[zone]

    def check(self, zones: set[str]) -> None:
        """Log in to each of ``zones`` (in order of name) before anything changes: a
        refusal is then one line and nothing was switched."""
        for zone in sorted(zones):
            self(zone).check()
