"""Web checks (with a fake fetcher, and one real local HTTP server) and database row counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evacuate.inventory.model import DatabaseServer
from evacuate.verify.databases import (
    CountResult,
    compare_databases,
    compare_roles,
    counted_dumps,
    counts_script,
    parse_counts_output,
)
from evacuate.verify.model import Status
from evacuate.verify.web import Fetcher, check_web, probes_for
from evacuate.verify.webclient import WebAnswer, body_digest, fetch, normalize_name, page_title
from tests.unit.verify.builders import manifest, source_inventory

PAGE = b"<html><head><title>Example  &amp; Home</title></head><body><p>Hi</p></body></html>"


def test_probes_cover_each_vhost_port_once() -> None:
    probes = [(p.name, p.tls) for p in probes_for(source_inventory())]
    assert probes == [("http://www.example.test:80/", False),
                      ("https://shop.example.test:443/", True)]


def test_page_title_and_body_digest_normalize_whitespace() -> None:
    assert page_title(PAGE) == "Example & Home"
    assert body_digest(b"<p>a\n  b</p>\n") == body_digest(b"<p>a b</p>")
    assert normalize_name("O=Example,CN=shop") == normalize_name("CN=shop, O=Example")


def _fetcher(answers: dict[tuple[str, int], WebAnswer]) -> Fetcher:
    def fetcher(address: str, port: int, tls: bool, host: str) -> WebAnswer:
        return answers[(address, port)]
    return fetcher


GOOD_TLS = WebAnswer(200, "Shop", "s1", cert_subject="CN=shop.example.test,O=Example",
                     cert_sans=("DNS:shop.example.test",))


def test_pages_are_compared_with_the_snapshot_when_the_source_is_gone() -> None:
    pages = {"/var/www/www/index.html": PAGE}
    answers = {("10.0.0.2", 80): WebAnswer(200, page_title(PAGE), body_digest(PAGE)),
               ("10.0.0.2", 443): GOOD_TLS}
    checks = check_web(source_inventory(), "10.0.0.2", read=pages.get, fetcher=_fetcher(answers))
    assert {c.id: c.status for c in checks} == {
        "web:http://www.example.test:80/": Status.PASS,
        "web:https://shop.example.test:443/": Status.PASS,
        "web:shop.example.test:443 certificate": Status.PASS}
    answers[("10.0.0.2", 80)] = WebAnswer(200, "Defaced", body_digest(b"x"))
    answers[("10.0.0.2", 443)] = replace(GOOD_TLS, cert_subject="CN=other")
    failed = {c.id: c for c in check_web(source_inventory(), "10.0.0.2", read=pages.get,
                                         fetcher=_fetcher(answers)) if c.failed}
    assert set(failed) == {"web:http://www.example.test:80/",
                           "web:shop.example.test:443 certificate"}
    assert "title" in failed["web:http://www.example.test:80/"].detail


def test_without_a_reference_any_2xx_or_3xx_passes_and_silence_fails() -> None:
    answers = {("t", 80): WebAnswer(301, location="https://x/"), ("t", 443): WebAnswer(
        None, error="ConnectionRefusedError")}
    checks = {c.id: c for c in check_web(source_inventory(), "t", fetcher=_fetcher(answers))}
    assert checks["web:http://www.example.test:80/"].status is Status.PASS
    assert checks["web:https://shop.example.test:443/"].status is Status.FAIL
    assert "does not answer" in checks["web:https://shop.example.test:443/"].detail


@pytest.fixture
def http_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE if self.headers["Host"] == "www.example.test" else b"nope"
            self.send_response(200 if body == PAGE else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_sends_the_host_header_to_the_address(http_server: int) -> None:
    good = fetch("127.0.0.1", http_server, tls=False, host="www.example.test", timeout=5)
    assert (good.status, good.title, good.body_hash) == (200, "Example & Home", body_digest(PAGE))
    other = fetch("127.0.0.1", http_server, tls=False, host="other.test", timeout=5)
    assert other.status == 404
    closed = fetch("127.0.0.1", 1, tls=False, host="x", timeout=2)
    assert closed.status is None and closed.error


def test_row_counts_are_compared_per_table() -> None:
    dumps = counted_dumps(manifest().dumps)
    assert [d.database for d in dumps] == ["shop"]
    script = counts_script(source_inventory(), dumps)
    assert "runuser -u postgres -- psql" in script and "@@rc" in script
    output = ("@@evacuate-verify-db postgresql shop\npublic.orders\t4999\n"
              "public.customers\t2000\n@@rc 0\n")
    found = parse_counts_output(output)
    assert found == [CountResult("postgresql", "shop",
                                 {"public.orders": 4999, "public.customers": 2000})]
    checks = {c.id: c for c in compare_databases(dumps, found)}
    assert checks["databases:shop: public.orders"].status is Status.FAIL
    assert checks["databases:shop: public.orders"].detail == "row count differs by -1"
    assert checks["databases:shop: public.customers"].status is Status.PASS


def test_an_unreadable_database_is_one_failure_with_the_error() -> None:
    dumps = counted_dumps(manifest().dumps)
    found = parse_counts_output('@@evacuate-verify-db postgresql shop\npsql: error: '
                                'database "shop" does not exist\n@@rc 2\n')
    [check] = compare_databases(dumps, found)
    assert check.failed and "does not exist" in check.detail and check.name == "postgresql/shop"


def test_each_database_role_of_the_source_exists_on_the_target() -> None:
    source = replace(source_inventory(), databases=(
        DatabaseServer("postgresql", roles=("postgres", "shop")),
        DatabaseServer("mariadb", roles=("'app'@'localhost'", "'debian-sys-maint'@'localhost'",
                                         "'root'@'localhost'"))))
    target = replace(source, databases=(
        DatabaseServer("postgresql", roles=("postgres",)),
        DatabaseServer("mariadb", roles=("'app'@'localhost'",))))
    checks = {c.id: c for c in compare_roles(source, target)}
    assert {i: c.status for i, c in checks.items()} == {
        "databases:postgresql role postgres": Status.PASS,
        "databases:postgresql role shop": Status.FAIL,
        "databases:mysql role 'app'@'localhost'": Status.PASS}  # system users are the target's
    assert checks["databases:postgresql role shop"].found == "missing"
