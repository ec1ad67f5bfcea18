"""The HTTP answers of a container's published ports, asked of two real HTTP servers on
one port: the "source" on 127.0.0.1, the "target" on 127.0.0.2 (the same published port on
both hosts)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evacuate.inventory import HostInventory
from evacuate.inventory.model import Container, Containers, PortBinding
from evacuate.verify.container_web import check_container_answers, published_ports
from evacuate.verify.model import Check

SOURCE, TARGET = "127.0.0.1", "127.0.0.2"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((SOURCE, 0))
        port = int(sock.getsockname()[1])
    with socket.socket() as sock:  # the target's side must be free too
        sock.bind((TARGET, port))
    return port


Serve = Callable[[str, int, bytes], None]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Serve ``body`` (200) at ``address``:``port`` until the test ends."""
    servers: list[ThreadingHTTPServer] = []

    def start(address: str, port: int, body: bytes) -> None:
        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        server = ThreadingHTTPServer((address, port), Page)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _source(port: int, state: str = "running", project: str = "shop") -> HostInventory:
    web = Container(id="1", name="shop_web_1", image="localhost/shop/web:1", state=state,
                    published_ports=(PortBinding(f"{port}/tcp", "0.0.0.0", str(port)),
                                     PortBinding(f"{port}/tcp", "::", str(port)),
                                     PortBinding("53/udp", "0.0.0.0", "5353")),
                    compose_project=project, compose_service="web" if project else "")
    return HostInventory(host="shop", collected_at="", containers=Containers(
        engine="docker", version="20.10.24", containers=(web,)))


def _only(checks: list[Check]) -> Check:
    assert len(checks) == 1, checks
    return checks[0]


def test_each_running_containers_tcp_port_is_asked_once() -> None:
    source = _source(8081)
    assert published_ports(source) == [("shop/web", 8081)]
    assert published_ports(_source(8081, project="")) == [("container shop_web_1", 8081)]
    assert published_ports(_source(8081, state="exited")) == []


def test_the_same_answer_passes_and_another_fails(serve: Serve) -> None:
    port = _free_port()
    serve(SOURCE, port, b"<title>Shop notes</title>3 notes\n")
    serve(TARGET, port, b"<title>Shop notes</title>3 notes\n")
    same = _only(check_container_answers(_source(port), TARGET, source_address=SOURCE))
    assert (same.name, same.status.value) == (f"shop/web http :{port}", "pass")
    assert same.expected == same.found and "“Shop notes”" in same.found


def test_other_content_fails(serve: Serve) -> None:
    port = _free_port()
    serve(SOURCE, port, b"<title>Shop notes</title>3 notes\n")
    serve(TARGET, port, b"<title>Shop notes</title>0 notes\n")
    other = _only(check_container_answers(_source(port), TARGET, source_address=SOURCE))
    assert other.status.value == "fail"
    assert other.detail == "content differs from the source's answer"


def test_a_target_that_does_not_answer_fails(serve: Serve) -> None:
    port = _free_port()
    serve(SOURCE, port, b"ok\n")
    silent = _only(check_container_answers(_source(port), TARGET, source_address=SOURCE))
    assert (silent.status.value, silent.detail) == ("fail", "the target does not answer")


def test_without_a_source_to_ask_the_answer_is_not_verified(serve: Serve) -> None:
    port = _free_port()
    serve(TARGET, port, b"ok\n")
    for address in (None, TARGET):  # the source gone, or the target itself
        unasked = _only(check_container_answers(_source(port), TARGET, source_address=address))
        assert unasked.status.value == "unverified" and "cannot be asked" in unasked.detail
    down = _only(check_container_answers(_source(port), TARGET, source_address=SOURCE))
    assert down.status.value == "unverified" and "does not answer on this port" in down.detail


def test_a_port_that_is_not_http_is_left_to_the_listener_checks() -> None:
    port = _free_port()
    with socket.socket() as listener:  # accepts, then closes without a word
        listener.bind((SOURCE, port))
        listener.listen()

        def hang_up() -> None:
            for _ in range(2):
                conn, _ = listener.accept()
                conn.close()
        threading.Thread(target=hang_up, daemon=True).start()
        assert check_container_answers(_source(port), TARGET, source_address=SOURCE) == []


def test_udp_and_unpublished_ports_are_not_asked() -> None:
    source = _source(8081)
    (web,) = source.containers.containers
    quiet = replace(web, published_ports=(PortBinding("8081/tcp"),
                                          PortBinding("53/udp", "0.0.0.0", "53")))
    bare = replace(source, containers=replace(source.containers, containers=(quiet,)))
    assert published_ports(bare) == []
    assert check_container_answers(bare, TARGET, source_address=SOURCE) == []
