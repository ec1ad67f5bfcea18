"""Host spec parsing: accepted forms, rejected forms, and no exception but UsageError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from evacuate.errors import UsageError
from evacuate.transport.spec import HostSpec, parse_host_spec


@pytest.mark.parametrize(("text", "expected"), [
    ("web1", HostSpec(None, "web1", None)),
    ("root@web1", HostSpec("root", "web1", None)),
    ("root@web1.example.com:2222", HostSpec("root", "web1.example.com", 2222)),
    ("ssh://deploy@10.0.0.5:22", HostSpec("deploy", "10.0.0.5", 22)),
    ("ssh://10.0.0.5/", HostSpec(None, "10.0.0.5", None)),
    ("SSH://h", HostSpec(None, "h", None)),
    ("[::1]:2222", HostSpec(None, "::1", 2222)),
    ("admin@[2001:db8::1]", HostSpec("admin", "2001:db8::1", None)),
    ("2001:db8::1", HostSpec(None, "2001:db8::1", None)),
    ("ssh://u@[fe80::1%eth0]:22", HostSpec("u", "fe80::1%eth0", 22)),
    ("  my_alias  ", HostSpec(None, "my_alias", None)),
    ("machine$@h", HostSpec("machine$", "h", None)),
    ("local", HostSpec(None, "localhost", None, scheme="local")),
    ("LOCAL", HostSpec(None, "localhost", None, scheme="local")),
    ("local://", HostSpec(None, "localhost", None, scheme="local")),
])
def test_parses(text: str, expected: HostSpec) -> None:
    assert parse_host_spec(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("root@", "no host name"),
    ("@host", "invalid user"),
    ("host:", "invalid port"),
    ("host:0", "invalid port"),
    ("host:65536", "invalid port"),
    ("host:22a", "invalid port"),
    ("host:١٢", "invalid port"),
    ("host:1_000", "invalid port"),
    ("-oProxyCommand=evil", "invalid host name"),
    ("host name", "invalid host name"),
    ("a..b", "invalid host name"),
    ("[::1", "missing ']'"),
    ("[::1]x", "unexpected"),
    ("[web1]:22", "not an IPv6 address"),
    ("1:2:zz", "not an IPv6 address"),
    ("ftp://host", "unknown scheme"),
    ("ssh://", "no host"),
    ("local://host", "takes no host"),
    ("us er@host", "invalid user"),
    ("host/path", "invalid host name"),
])
def test_rejects_with_one_line_message(text: str, reason: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_host_spec(text)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.hint


@pytest.mark.parametrize("spec", ["root@web1:2222", "[::1]:22", "web1", "u@[2001:db8::1]", "local"])
def test_str_round_trips(spec: str) -> None:
    assert str(parse_host_spec(spec)) == spec
    assert parse_host_spec(str(parse_host_spec(spec))) == parse_host_spec(spec)


def test_spec_is_frozen() -> None:
    spec = parse_host_spec("root@h")
    with pytest.raises(AttributeError):
        spec.host = "other"  # type: ignore[misc]


@given(st.text())
@example("000000000\x1f\x1f\x1f\x1f\x1f\U000101fe\U00012544\U0001342f\U00014647\U00018cd6"
         "\U00018cd6\U00018cd6\U00018cd6\U00018d09\U0002ebe1")  # escapes 10x: was 300 long
def test_arbitrary_text_raises_only_usage_error(text: str) -> None:
    try:
        spec = parse_host_spec(text)
    except UsageError as err:
        assert "\n" not in str(err) and len(str(err)) < 300
    else:
        assert spec.host and " " not in spec.host
        assert spec.port is None or 0 < spec.port < 65536


@given(st.from_regex(r"(ssh://)?([a-z_][a-z0-9_-]{0,8}@)?[a-z0-9][a-z0-9.-]{0,20}(:[0-9]{1,6})?",
                     fullmatch=True))
def test_spec_like_text_raises_only_usage_error(text: str) -> None:
    try:
        spec = parse_host_spec(text)
    except UsageError:
        return
    assert parse_host_spec(str(spec)) == spec


@given(st.text(alphabet="[]:@/%.0123456789abcdef-_ \n\t\x00$!", max_size=40))
def test_punctuation_soup_raises_only_usage_error(text: str) -> None:
    with contextlib.suppress(UsageError):
        parse_host_spec(text)
