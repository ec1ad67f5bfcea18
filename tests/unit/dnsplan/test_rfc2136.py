"""The RFC 2136 UPDATE messages evacuate builds (read back and their TSIG signature checked
with dnspython), how the server's answers become one line each (from a small server on
loopback that answers as told), and the rfc2136 provider's options."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import pytest

from evacuate.dns.model import RecordSet
from evacuate.dns.resolve import DnsUpdateError, TsigKey, send_update, update_wire
from evacuate.dns.rfc2136 import Rfc2136Editor, option_problems
from evacuate.dns.switch import ProviderError

SECRET = "84T69h0AK3yiC7czRZh6uMDx6tu+Un4fAlSJM7Lt98A="
KEY = TsigKey("evacuate.", "hmac-sha256", SECRET)
KEYRING = dns.tsigkeyring.from_text({"evacuate.": ("hmac-sha256", SECRET)})


def read(wire: bytes) -> dns.message.Message:
    """The message as a server reads it, its signature checked against KEYRING."""
    return dns.message.from_wire(wire, keyring=KEYRING)


def lines(section: list) -> list[str]:
    """Each record as ``name ttl class type [data]``; a record set without data (a delete,
    a prerequisite) as one line without data."""
    found = []
    for rrset in section:
        rdclass = rrset.deleting or rrset.rdclass  # class ANY on the wire: a delete
        head = (f"{rrset.name} {rrset.ttl} {dns.rdataclass.to_text(rdclass)} "
                f"{dns.rdatatype.to_text(rrset.rdtype)}")
        found += [f"{head} {rdata.to_text()}" for rdata in rrset] or [head]
    return found


def test_a_replace_deletes_the_record_set_and_adds_its_values_in_one_signed_update() -> None:
    wire = update_wire("example.org", KEY, (
        RecordSet("www.example.org", "A", 120, ("198.51.100.20", "192.0.2.99")),))
    message = read(wire)
    assert message.opcode() == dns.opcode.UPDATE
    assert message.had_tsig and message.keyname.to_text() == "evacuate."
    assert lines(message.sections[0]) == ["example.org. 0 IN SOA"]  # the zone
    assert message.sections[1] == []  # no prerequisite
    assert lines(message.sections[2]) == [  # the update: delete the set, then add it anew
        "www.example.org. 0 ANY A",
        "www.example.org. 120 IN A 198.51.100.20",
        "www.example.org. 120 IN A 192.0.2.99"]


def test_names_in_values_are_taken_from_the_root_and_no_values_only_delete() -> None:
    message = read(update_wire("example.org", KEY, (
        RecordSet("example.org", "MX", 3600, ("10 mx.example.net",)),
        RecordSet("shop.example.org", "CNAME", 600, ("www.example.org",)),
        RecordSet("old.example.org", "A", 300, ()))))
    assert lines(message.sections[2]) == [
        "example.org. 0 ANY MX", "example.org. 3600 IN MX 10 mx.example.net.",
        "shop.example.org. 0 ANY CNAME", "shop.example.org. 600 IN CNAME www.example.org.",
        "old.example.org. 0 ANY A"]


def test_the_key_check_is_an_update_that_only_requires_the_zone() -> None:
    message = read(update_wire("example.org.", KEY, require_zone=True))
    assert lines(message.sections[1]) == ["example.org. 0 ANY SOA"]  # the SOA exists
    assert message.sections[2] == []  # and nothing changes


def test_the_signature_is_the_keys() -> None:
    wire = update_wire("example.org", KEY, require_zone=True)
    other = dns.tsigkeyring.from_text({"evacuate.": ("hmac-sha256", "b3RoZXItc2VjcmV0")})
    with pytest.raises(dns.tsig.BadSignature):
        dns.message.from_wire(wire, keyring=other)
    sha512 = dns.tsigkeyring.from_text({"evacuate.": ("hmac-sha512", SECRET)})
    message = dns.message.from_wire(
        update_wire("example.org", TsigKey("evacuate.", "HMAC-SHA512", SECRET)), keyring=sha512)
    assert message.keyalgorithm.to_text() == "hmac-sha512."


def test_a_bad_key_is_one_line_without_its_secret() -> None:
    with pytest.raises(DnsUpdateError, match=r"^TSIG key evacuate\.: unknown algorithm "
                                             r"'hmac-sha3' \(known: hmac-sha256, "):
        update_wire("example.org", TsigKey("evacuate.", "hmac-sha3", SECRET))
    with pytest.raises(DnsUpdateError) as bad:
        update_wire("example.org", TsigKey("evacuate.", "hmac-sha256", "not base64!"))
    assert str(bad.value) == "TSIG key evacuate.: its secret is not base64"
    assert SECRET not in repr(KEY)
    with pytest.raises(DnsUpdateError, match=r"^www\.example\.org A: '192\.0\.2' is not a "
                                             r"valid record \("):
        update_wire("example.org", KEY, (RecordSet("www.example.org", "A", 300, ("192.0.2",)),))


class Server:
    """A name server on loopback (TCP) that answers each update with ``rcode``, signed with
    ``keyring`` (None: the request's own key), or with a TSIG error; records what it got."""

    def __init__(self) -> None:
        self.rcode = dns.rcode.NOERROR
        self.tsig_error = 0
        self.got: list[dns.message.Message] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                size = struct.unpack("!H", conn.recv(2))[0]
                data = b""
                while len(data) < size:
                    data += conn.recv(size - len(data))
                request = dns.message.from_wire(data, keyring=KEYRING)
                self.got.append(request)
                response = dns.message.make_response(request, tsig_error=self.tsig_error)
                response.set_rcode(self.rcode)
                wire = response.to_wire()
                conn.sendall(struct.pack("!H", len(wire)) + wire)


@pytest.fixture
def server() -> Iterator[Server]:
    it = Server()
    yield it
    it.sock.close()


@pytest.mark.parametrize(("rcode", "line"), [
    (dns.rcode.REFUSED, "the server refused the update (its allow-update or update-policy "
                        "does not let key evacuate. make it)"),
    (dns.rcode.NOTAUTH, "the server is not authoritative for the zone"),
    (dns.rcode.NXRRSET, "the zone has no SOA record on this server"),
    (dns.rcode.SERVFAIL, "the server failed the update (SERVFAIL)"),
])
def test_a_refusal_is_one_line(server: Server, rcode: dns.rcode.Rcode, line: str) -> None:
    server.rcode = rcode
    with pytest.raises(DnsUpdateError) as refused:
        send_update("127.0.0.1", "example.org", KEY, require_zone=True, port=server.port)
    assert str(refused.value) == line
    assert lines(server.got[0].sections[1]) == ["example.org. 0 ANY SOA"]


def test_a_signature_the_server_refuses_is_one_line(server: Server) -> None:
    server.rcode, server.tsig_error = dns.rcode.NOTAUTH, dns.rcode.BADSIG
    with pytest.raises(DnsUpdateError) as refused:
        send_update("127.0.0.1", "example.org", KEY, port=server.port)
    assert str(refused.value) == ("the server refused the signature of TSIG key evacuate. "
                                  "(a wrong secret or algorithm)")


def test_the_editor_replaces_one_record_set_per_update(server: Server) -> None:
    editor = Rfc2136Editor("Example.org.", {"server": "127.0.0.1", "port": server.port,
                                            "key_name": "evacuate."},
                           environ={"EVACUATE_RFC2136_KEY_SECRET": SECRET})
    editor.check()
    editor.replace("www.example.org", "A", ("198.51.100.20",), 300)
    assert [lines(m.sections[2]) for m in server.got] == [
        [], ["www.example.org. 0 ANY A", "www.example.org. 300 IN A 198.51.100.20"]]
    server.rcode = dns.rcode.REFUSED
    with pytest.raises(ProviderError) as refused:
        editor.replace("www.example.org", "A", ("198.51.100.20",), 300)
    assert str(refused.value).startswith(
        "zone example.org (rfc2136 at 127.0.0.1): changing www.example.org A failed: the "
        "server refused the update")


def test_a_server_that_is_not_there_is_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(DnsUpdateError, match=rf"^cannot connect to 127\.0\.0\.1:{port}: "):
        send_update("127.0.0.1", "example.org", KEY, port=port, timeout=2)


def test_the_environment_wins_over_the_file_and_what_is_missing_is_named() -> None:
    options = {"server": "192.0.2.53", "key_name": "evacuate.", "key_secret": "ZmlsZQ=="}
    editor = Rfc2136Editor("example.org", options,
                           environ={"EVACUATE_RFC2136_KEY_SECRET": SECRET,
                                    "EVACUATE_RFC2136_SERVER": "192.0.2.54"})
    assert (editor.server, editor.key.secret, editor.port) == ("192.0.2.54", SECRET, 53)
    with pytest.raises(ProviderError) as missing:
        Rfc2136Editor("example.org", {"server": "192.0.2.53"}, environ={})
    assert str(missing.value) == "zone example.org (rfc2136): no key_name, key_secret"
    assert missing.value.hint is not None and "EVACUATE_RFC2136_KEY_SECRET" in missing.value.hint


def test_option_problems_never_show_a_value() -> None:
    assert option_problems({"server": "ns1.example.org", "port": "fifty", "secret": SECRET,
                            "timeout": 0}) == [
        ("secret", "rfc2136 has no option 'secret' (its options: server, port, key_name, "
                   "key_algorithm, key_secret, timeout)"),
        ("server", "must be an IP address"),
        ("port", "must be a whole number above zero"),
        ("timeout", "must be a whole number above zero")]
    assert option_problems({"server": "2001:db8::53", "port": 5353, "key_name": "k"}) == []
