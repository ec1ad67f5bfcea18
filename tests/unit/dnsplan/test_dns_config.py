"""evacuate.yml's dns providers: the default one, a zone's own (dns.zones), rfc2136's
options checked when the file is read (never showing a value), and the editor each zone
gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.config import load_config
from evacuate.dns.editors import Editors, open_editor
from evacuate.dns.provider import ZoneEditor
from evacuate.dns.rfc2136 import Rfc2136Editor
from evacuate.dns.switch import ProviderError
from evacuate.errors import ConfigError

SECRET = "84T69h0AK3yiC7czRZh6uMDx6tu+Un4fAlSJM7Lt98A="

TWO_PROVIDERS = f"""\
dns:
  provider: powerdns
  provider_options: {{pdns_server: "http://ns1.example.org:8081"}}
  zones:
    Hosted.Example.NET.:
      provider: rfc2136
      provider_options:
        server: 192.0.2.53
        key_name: evacuate.
        key_secret: "{SECRET}"
"""


def load(tmp_path: Path, text: str):
    path = tmp_path / "evacuate.yml"
    path.write_text(text)
    return load_config(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.problems


def test_each_zone_gets_its_own_provider_or_the_default(tmp_path: Path) -> None:
    dns = load(tmp_path, TWO_PROVIDERS).dns
    assert dns is not None and dns.editable
    hosted = dns.provider_for("hosted.example.net")
    assert hosted is not None and hosted.name == "rfc2136"
    assert dns.provider_for("example.org").name == "powerdns"  # type: ignore[union-attr]
    assert SECRET not in repr(dns)
    editors = Editors(dns)
    assert isinstance(editors("hosted.example.net"), Rfc2136Editor)
    assert isinstance(editors("example.org"), ZoneEditor)
    assert editors("example.org") is editors("example.org")


def test_zones_alone_edit_only_their_zones(tmp_path: Path) -> None:
    dns = load(tmp_path, TWO_PROVIDERS.replace("  provider: powerdns\n", "").replace(
        '  provider_options: {pdns_server: "http://ns1.example.org:8081"}\n', "")).dns
    assert dns is not None and dns.editable and dns.provider_for("example.org") is None
    with pytest.raises(ProviderError, match=r"^zone example\.org: no provider edits it$"):
        open_editor("example.org", dns)


def test_rfc2136_options_are_checked_without_showing_them(tmp_path: Path) -> None:
    text = TWO_PROVIDERS.replace("server: 192.0.2.53", "server: ns1.example.net").replace(
        "key_name: evacuate.", f"key_name: evacuate.\n        secret: {SECRET}")
    text += "    hosted.example.net:\n      provider: rfc2136\n"
    found = problems(tmp_path, text)
    assert found == [
        "At 'dns.zones.Hosted.Example.NET..provider_options.secret': rfc2136 has no option "
        "'secret' (its options: server, port, key_name, key_algorithm, key_secret, timeout)",
        "At 'dns.zones.Hosted.Example.NET..provider_options.server': must be an IP address",
        "At 'dns.zones.hosted.example.net': the same zone as 'Hosted.Example.NET.'"]
    assert not any(SECRET in line for line in found)


def test_a_provider_option_of_the_wrong_type_is_not_shown(tmp_path: Path) -> None:
    found = problems(tmp_path, TWO_PROVIDERS.replace(f'key_secret: "{SECRET}"',
                                                     f"key_secret: [{SECRET}]"))
    assert len(found) == 1 and found[0].startswith(
        "At 'dns.zones.Hosted.Example.NET..provider_options.key_secret': ")
    assert SECRET not in found[0]
