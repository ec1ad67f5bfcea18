"""Tests of evacuate.config: loading, typed results, every kind of error, the schema."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from evacuate.config import (
    CONFIG_ENV,
    Config,
    ConfigError,
    HostSpec,
    find_config,
    load_config,
    load_schema,
    parse_duration,
    require_config,
)
from evacuate.snapshot.store.url import StoreURL

FIXTURES = Path(__file__).parent / "fixtures" / "config"


def write(tmp_path: Path, text: str, name: str = "evacuate.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


# --- valid files ---------------------------------------------------------------------

def test_valid_fixture_is_typed_and_resolved() -> None:
    config = load_config(FIXTURES / "valid.yml")
    assert isinstance(config, Config)
    assert config.state_dir == FIXTURES / "state"
    assert config.ssh.known_hosts == Path("~/.ssh/known_hosts").expanduser()
    assert config.ssh.identity_file == FIXTURES / "keys" / "id_ed25519"
    assert config.ssh.connect_timeout == 5.0
    web1 = config.hosts["web1"]
    assert web1.ssh == HostSpec(host="203.0.113.10", user="root", port=None)
    assert web1.include == ("/srv/app",) and web1.exclude == ("*.tmp",)
    assert web1.databases.postgresql is True and web1.databases.mysql == "auto"
    assert web1.target == "new1" and config.hosts["db.old-2"].target is None
    assert config.hosts["db.old-2"].ssh.port == 2222 and config.hosts["db.old-2"].become
    assert str(config.targets["new1"].ssh) == "deploy@[2001:db8::20]:22"
    assert config.store is not None and not config.store.is_s3
    assert config.store.location.path == FIXTURES.parent / "snapshots"
    assert config.store.key_env == "EVACUATE_KEY"
    assert config.snapshot.max_age == timedelta(hours=1, minutes=30)
    assert config.verify.urls[0].expect_status == 200
    assert config.verify.sql[0].engine == "postgresql"
    assert config.verify.commands[1].host is None
    assert config.verify.accept[0].check == "service:exim4"
    assert config.lab.subnet == 7
    with pytest.raises(TypeError):
        config.hosts["new"] = web1  # type: ignore[index]


def test_s3_store() -> None:
    store = load_config(FIXTURES / "s3.yml").store
    assert store is not None and store.is_s3
    assert store.location == StoreURL(bucket="my-backups", prefix="evacuate/prod")
    assert store.region == "eu-central-1" and store.endpoint_url == "https://s3.example.net"
    assert store.key_file == Path.home() / "snapshot.key"


def test_defaults_and_empty_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "hosts:\nverify:\nssh: {}\n"))
    assert config.state_dir == tmp_path / ".evacuate"
    assert config.hosts == {} and config.store is None
    assert config.ssh.trust_unknown_hosts is False and config.ssh.connect_timeout == 10.0


# --- all problems at once ------------------------------------------------------------

def test_four_problems_give_four_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(FIXTURES / "four_problems.yml")
    assert str(caught.value).endswith("four_problems.yml: 4 problems")
    assert caught.value.problems == [
        "At 'hosts.web1.ssh': invalid host spec 'root@203.0.113.10:70000': "
        "invalid port '70000' (expected 1-65535)",
        "At 'hosts.web1.target': no target named 'new9' (defined: new1)",
        "At 'snapshot.max_age': 'fortnight' is not a duration like 15m, 2h, 1d or 1h30m",
        "At 'ssh.connect_timout': unknown key; did you mean 'connect_timeout'?",
    ]


def test_bad_fixture_reports_every_kind() -> None:
    problems = problems_of(FIXTURES / "bad.yml")
    assert len(problems) == 21
    assert all(line.startswith("At '") for line in problems)
    for expected in ("At 'hosts.bad name!': invalid name", "At 'hosts.db1': missing required key 'ssh'",
                     "At 'hosts.db1.include[0]': 'relative/path' must be an absolute path",
                     "At 'verify.urls[0].expect_status': must be at most 599",
                     "At 'targets.new1.ssh': invalid host spec '-oProxyCommand=evil': invalid host name",
                     "At 'store': set either key_file or key_env, not both"):
        assert any(line.startswith(expected) for line in problems), expected


@pytest.mark.parametrize(("text", "expected"), [
    ("hostz: {}\n", "At 'hostz': unknown key; did you mean 'hosts'?"),
    ("ssh: {connect_timeout: soon}\n", "At 'ssh.connect_timeout': expected a number (e.g. 10), got 'soon'"),
    ("hosts: [web1]\n", "At 'hosts': expected a mapping (key: value), got a list"),
    ("hosts: {web1: {ssh: x, databases: {mysql: 1}}}\n",
     "At 'hosts.web1.databases.mysql': must be one of: true, false, 'auto'; got 1"),
    ("hosts: {-web: {ssh: x}}\n", "At 'hosts.-web': invalid name: '-web' must start with"),
    ("hosts: {1: {ssh: x}}\n", "At 'hosts.1': invalid name: expected a string, got 1"),
    ("hosts: {web1: {ssh: 'root@'}}\n", "At 'hosts.web1.ssh': invalid host spec 'root@': no host name"),
    ("hosts: {web1: {ssh: 'ftp://web1'}}\n", "At 'hosts.web1.ssh': invalid host spec 'ftp://web1': unknown scheme"),
    ("hosts: {web1: {ssh: x, target: t}}\n",
     "At 'hosts.web1.target': no target named 't' (none are defined under 'targets')"),
    ("snapshot: {max_age: 0m}\n", "At 'snapshot.max_age': must be longer than zero"),
    ("snapshot: {max_age: 15}\n", "At 'snapshot.max_age': expected a string (e.g. 1d), got 15"),
    ("store: {url: 'http://x/y'}\n", "At 'store.url': unsupported store URL 'http://x/y' "
                                     "(scheme 'http')"),
    ("store: {url: 's3://A_B'}\n", "At 'store.url': invalid S3 bucket name 'A_B'"),
    ("store: {url: 'file://host/x'}\n", "At 'store.url': invalid file store URL"),
    ("store: {url: ./s, region: x}\n", "At 'store.region': only applies to s3:// stores"),
    ("store: {key_file: k}\n", "At 'store': missing required key 'url'"),
    ("verify: {commands: [{host: nope, command: ls}]}\n", "At 'verify.commands[0].host': no host or target named 'nope'"),
    ("verify: {accept: [{check: x}]}\n", "At 'verify.accept[0]': missing required key 'reason'"),
    ("lab: {subnet: -1}\n", "At 'lab.subnet': must be at least 0; got -1"),
    ("a: 1\na: 2\n", "At line 2: duplicate key 'a'"),
])
def test_each_problem_kind(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(write(tmp_path, text))
    assert any(line.startswith(expected) for line in problems), problems


@pytest.mark.parametrize(("text", "expected"), [
    ("hosts: [\n", "evacuate.yml:2:1: invalid YAML: "),
    ("a: b: c\n", "evacuate.yml:1:5: invalid YAML: mapping values are not allowed here"),
    ("- one\n- two\n", "evacuate.yml: expected a mapping of settings (key: value), got a list"),
    ("just text\n", "evacuate.yml: expected a mapping of settings (key: value), got 'just text'"),
    ("", "evacuate.yml: empty"),
    ("# only a comment\n", "evacuate.yml: empty"),
    ("x: !!python/object:os.system 1\n", "evacuate.yml:1:4: invalid YAML: could not determine a constructor"),
    ("a: 1\n---\nb: 2\n", "evacuate.yml:2:1: invalid YAML: "),
    ("a: \x00\n", "evacuate.yml: invalid YAML: unacceptable character"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "evacuate.yml"),
])
def test_one_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / expected)) or expected in message, message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "evacuate.yml")
    assert str(caught.value) == (f"{tmp_path / 'evacuate.yml'}: no such file; "
                                 "run 'evacuate init' to write a commented sample")
    assert caught.value.problems == [] and caught.value.exit_code == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts: {}\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read: Permission denied"):
        load_config(path)


def test_directory_and_binary(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)
    path = tmp_path / "bin.yml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path)


# --- helpers -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)), ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)),
    ("1h30m", timedelta(hours=1, minutes=30)), ("2w", timedelta(weeks=2)), ("45s", timedelta(seconds=45)),
    (" 3D ", timedelta(days=3)), ("0s", timedelta()),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "1y", "1.5h", "-1h", "15 minutes", "1h 30x"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def _ssh_of(tmp_path: Path, spec: str) -> HostSpec:
    return load_config(write(tmp_path, f"hosts: {{web1: {{ssh: {spec!r}}}}}\n")).hosts["web1"].ssh


@pytest.mark.parametrize(("spec", "expected"), [
    ("web1", HostSpec(None, "web1")),
    ("root@203.0.113.10", HostSpec("root", "203.0.113.10")),
    ("user@host:2222", HostSpec("user", "host", 2222)),
    ("[2001:db8::1]", HostSpec(None, "2001:db8::1")),
    ("2001:db8::1", HostSpec(None, "2001:db8::1")),
    ("admin@[2001:db8::1]:22", HostSpec("admin", "2001:db8::1", 22)),
    ("deploy$@old.example.org", HostSpec("deploy$", "old.example.org")),
    ("ssh://root@web1:2222/", HostSpec("root", "web1", 2222)),
    ("local", HostSpec(None, "localhost", None, "local")),
])
def test_ssh_is_the_transports_host_spec(tmp_path: Path, spec: str, expected: HostSpec) -> None:
    assert _ssh_of(tmp_path, spec) == expected
    assert _ssh_of(tmp_path, str(expected)) == expected


@pytest.mark.parametrize("spec", ["", "@host", "us er@host", "host:0", "host:65536", "host:22x",
                                  "host:", "-oProxyCommand=x", "-l@host", "ssh://-oProxyCommand=x",
                                  "root@-host:22", "[::1", "[nope]:22", "[::1]x", "ho st",
                                  "host/path", "host:\u0661", "ftp://host"])
def test_bad_ssh_is_a_problem_at_its_key(tmp_path: Path, spec: str) -> None:
    problems = problems_of(write(tmp_path, f"targets: {{new1: {{ssh: {spec!r}}}}}\n"))
    assert len(problems) == 1, problems
    assert problems[0].startswith("At 'targets.new1.ssh': "), problems
    assert "\n" not in problems[0]


def test_the_store_url_is_parsed_by_the_store_and_file_urls_are_accepted(
        tmp_path: Path) -> None:
    store = load_config(write(tmp_path, f"store: {{url: 'file://{tmp_path}/snap%20s'}}\n")).store
    assert store is not None and store.location == StoreURL(path=tmp_path / "snap s")
    store = load_config(write(tmp_path, "store: {url: 'S3://my.bucket-1/a/b/'}\n")).store
    assert store is not None and store.url == "s3://my.bucket-1/a/b"


def test_find_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert find_config(None) is None
    with pytest.raises(ConfigError, match=r"no evacuate\.yml here"):
        require_config(None)
    write(tmp_path, "hosts: {}\n")
    assert find_config(None) == Path("evacuate.yml")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "other.yml"))
    assert find_config(None) == tmp_path / "other.yml"
    assert find_config(Path("explicit.yml")) == Path("explicit.yml")


# --- the schema ----------------------------------------------------------------------

def _properties(schema: dict, where: str = ""):
    for key, prop in schema.get("properties", {}).items():
        yield f"{where}{key}", prop
        yield from _properties(prop, f"{where}{key}.")
        for sub in ("additionalProperties", "items"):
            if isinstance(prop.get(sub), dict):
                yield from _properties(prop[sub], f"{where}{key}.{sub}.")


def test_schema_is_valid_and_documents_every_property() -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    seen = 0
    for path, prop in _properties(schema):
        assert prop.get("description"), f"{path} has no description"
        assert prop.get("examples"), f"{path} has no examples"
        validator = jsonschema.Draft202012Validator({**prop, "$defs": schema["$defs"]})
        for example in prop["examples"]:
            assert not list(validator.iter_errors(example)), f"{path}: example {example!r} is invalid"
        seen += 1
    assert seen > 40


def test_schema_forbids_unknown_keys_everywhere() -> None:
    schema = load_schema()
    for path, prop in [("", schema), *_properties(schema)]:
        if prop.get("type") == "object" and "properties" in prop:
            assert prop.get("additionalProperties") is False, path


def test_permission_denied_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "hosts: {}\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError, match=r"evacuate.yml: cannot read: Permission denied$"):
        load_config(path)


def test_imap_logins_name_a_password_variable_never_a_password(tmp_path: Path) -> None:
    base = "hosts:\n  mail1:\n    ssh: root@192.0.2.10\nverify:\n  imap_logins:\n"
    config = load_config(write(tmp_path, base + "    - {user: anna, password_env: ANNA_PW}\n"
                               "    - {user: ben, password_env: BEN_PW, port: 1143}\n"))
    logins = config.verify.imap_logins
    assert [(x.user, x.password_env, x.port) for x in logins] == [
        ("anna", "ANNA_PW", 143), ("ben", "BEN_PW", 1143)]
    bad = write(tmp_path, base + "    - {user: anna, password: secret}\n", "bad.yml")
    assert problems_of(bad)
    bad_env = write(tmp_path, base + "    - {user: anna, password_env: 'not a name'}\n", "b2.yml")
    assert problems_of(bad_env)
