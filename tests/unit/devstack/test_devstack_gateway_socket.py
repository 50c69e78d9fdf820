"""`GatewayServer` on a real socket: its own request parsing and one-write responses keep what
`http.server` did (keep-alive, header order and case, 100-continue, chunked bodies, errors)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from touchline_dev.devstack.http_gateway import Gateway, GatewayServer, HttpRequest, HttpResponse, RouteTable


def _echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse.json(
        200,
        {
            "method": request.method,
            "target": request.target,
            "headers": request.headers,
            "body": request.body.decode(),
        },
        [("x-multi", "a"), ("x-multi", "b")],
    )


@pytest.fixture
def server() -> Iterator[GatewayServer]:
    gateway = Gateway(RouteTable([]), {}, {}, dev_routes={"POST /_dev/echo": _echo, "GET /_dev/echo": _echo})
    served = GatewayServer("127.0.0.1", 0, gateway, access_log=False)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stop_accepting(5)
        thread.join(5)


def _raw(port: int, data: bytes, *, half_close: bool = True) -> bytes:
    """What the server answers until it closes (without `half_close`, only it can end this)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_kept_alive_requests_keep_their_headers_in_order(server: GatewayServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for n in range(3):
        connection.putrequest("POST", f"/_dev/echo?n={n}", skip_accept_encoding=True)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("X-Dup", "one")
        connection.putheader("x-dup", "two")
        connection.putheader("Content-Length", "7")
        connection.endheaders(b'{"a":1}')
        response = connection.getresponse()
        echoed = json.loads(response.read())
        assert response.status == 200
        assert response.getheader("content-type") == "application/json"
        assert response.headers.get_all("x-multi") == ["a", "b"]
        assert response.getheader("date") and response.getheader("server")
        assert echoed["target"] == f"/_dev/echo?n={n}" and echoed["body"] == '{"a":1}'
        assert [h for h in echoed["headers"] if h[0].lower() == "x-dup"] == [
            ["X-Dup", "one"],
            ["x-dup", "two"],
        ]
    assert connection.sock is not None  # the same connection served all three
    connection.close()


def test_expect_continue_and_chunked_bodies(server: GatewayServer) -> None:
    answer = _raw(
        server.port,
        b"POST /_dev/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b'3\r\n{"a\r\n4\r\n":2}\r\n0\r\n\r\n',
    )
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    _head, _, body = answer.partition(b"\r\n\r\nHTTP/1.1 200 OK\r\n")[2].partition(b"\r\n\r\n")
    assert json.loads(body)["body"] == '{"a":2}'


def test_http_1_0_closes_and_bad_requests_get_the_stdlib_errors(server: GatewayServer) -> None:
    answer = _raw(server.port, b"GET /_dev/echo HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", half_close=False)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    # A header line without a colon is a 400 (the stdlib dropped it and the headers after it).
    assert _raw(server.port, b"GET /_dev/echo HTTP/1.1\r\nno colon here\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    # What is not `METHOD target HTTP/1.x` is the stdlib's to answer (without a status line, as
    # it answers a request it cannot take for HTTP/1.x).
    assert b"Error code: 505" in _raw(server.port, b"GET /_dev/echo HTTP/2.0\r\n\r\n")
    assert b"Error code: 400" in _raw(server.port, b"GET /a b HTTP/1.1\r\n\r\n")
    too_long = b"GET /_dev/echo HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert _raw(server.port, too_long).startswith(b"HTTP/1.1 431 ")
