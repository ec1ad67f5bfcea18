"""ConnectOptions: one value from evacuate.yml's ssh section and the command line to the
transport factory and into the transport (SSH and local), per host with its ``become``."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.cli.common import make_context
from evacuate.config.model import SSHSettings
from evacuate.hostref import BECOME_PASSWORD_ENV, HostRef, connect
from evacuate.transport import ConnectOptions, open_transport, parse_host_spec
from evacuate.transport.local import LocalTransport
from evacuate.transport.ssh import SSHTransport


def test_the_config_gives_the_options_and_the_command_line_overrides_them(
        tmp_path: Path) -> None:
    ssh = SSHSettings(known_hosts=tmp_path / "kh", identity_file=tmp_path / "key",
                      config_file=tmp_path / "ssh_config", connect_timeout=3.5)
    assert ssh.connect_options() == ConnectOptions(
        known_hosts=tmp_path / "kh", identity=tmp_path / "key",
        ssh_config=tmp_path / "ssh_config", connect_timeout=3.5)
    given = ssh.connect_options(known_hosts=tmp_path / "kh2", identity=tmp_path / "key2",
                                trust_unknown=True)
    assert (given.known_hosts, given.identity, given.trust_unknown) == (
        tmp_path / "kh2", tmp_path / "key2", True)
    assert SSHSettings(trust_unknown_hosts=True).connect_options().trust_unknown


def test_a_config_file_reaches_the_context(tmp_path: Path) -> None:
    config = tmp_path / "evacuate.yml"
    config.write_text("ssh: {known_hosts: /k/known, connect_timeout: 4}\n"
                      "hosts: {web1: {ssh: root@web1.example}}\n")
    ctx = make_context(config, tmp_path / "state", identity=tmp_path / "id")
    assert ctx.connect == ConnectOptions(known_hosts=Path("/k/known"), identity=tmp_path / "id",
                                         connect_timeout=4.0)


def test_the_factory_hands_the_same_value_to_the_transport(tmp_path: Path) -> None:
    empty = tmp_path / "ssh_config"
    empty.write_text("")
    options = ConnectOptions(known_hosts=tmp_path / "kh", identity=tmp_path / "key",
                             ssh_config=empty, connect_timeout=2.5, trust_unknown=True)
    transport = open_transport("deploy@web1.example:2222", options)  # nothing connects yet
    assert isinstance(transport, SSHTransport) and transport.options is options
    assert (transport.known_hosts, transport.identities, transport.connect_timeout,
            transport.trust_unknown) == (tmp_path / "kh", [tmp_path / "key"], 2.5, True)
    assert transport.name == "deploy@web1.example:2222"
    local = open_transport("local", ConnectOptions(become=True))
    assert isinstance(local, LocalTransport) and local.become


def test_become_is_per_host_and_its_password_is_never_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = ConnectOptions(identity=tmp_path / "key")
    sudo = options.becoming(True, "s3cret")
    assert sudo.become and sudo.become_password == "s3cret" and "s3cret" not in repr(sudo)
    assert options.becoming(False, "s3cret").become_password is None
    empty = tmp_path / "ssh_config"
    empty.write_text("")
    monkeypatch.setenv(BECOME_PASSWORD_ENV, "from-env")
    shared = ConnectOptions(ssh_config=empty)
    spec = parse_host_spec("ops@web1.example")
    becomes = connect(HostRef("web1", spec, become=True), shared)
    plain = connect(HostRef("web2", spec), shared)
    assert isinstance(becomes, SSHTransport) and isinstance(plain, SSHTransport)
    assert becomes.options.become and becomes.options.become_password == "from-env"
    assert not plain.options.become and plain.options.become_password is None
