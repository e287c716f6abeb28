"""The vendor sandbox keeps connections alive, as vendors' HTTP/1.1 APIs do: a connector's requests.Session sends
its next request on the same connection (no connect, accept and server thread per request). A request whose body
it does not read (chunked) ends its connection, so no leftover bytes are taken for the next request."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest

import local.sandbox
from local.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = local.sandbox.start()
    yield running
    running.stop()


def test_two_requests_share_one_connection(sandbox: Sandbox):
    connection = http.client.HTTPConnection(sandbox.host, sandbox.port, timeout=5)
    try:
        connection.request("GET", "/_sandbox/stats")
        first = connection.getresponse()
        first.read()
        assert (first.status, first.version) == (200, 11)
        kept = connection.sock
        assert kept is not None, "the sandbox closed the connection after one request"
        connection.request("GET", "/_sandbox/stats")
        second = connection.getresponse()
        second.read()
        assert second.status == 200 and connection.sock is kept
    finally:
        connection.close()


def test_a_chunked_request_ends_its_connection(sandbox: Sandbox):
    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as raw:
        raw.sendall(b"POST /_sandbox/reset HTTP/1.1\r\nHost: sandbox\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n0\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
        # answered once, then closed (recv saw the end of the stream): the chunk was not read as another request
        head, _, rest = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 204") and rest == b"", answer


def test_a_stopped_sandbox_closes_the_connections_kept_alive():
    sandbox = local.sandbox.start()
    connection = http.client.HTTPConnection(sandbox.host, sandbox.port, timeout=5)
    try:
        connection.request("GET", "/_sandbox/stats")
        connection.getresponse().read()
        kept = connection.sock
        sandbox.stop()
        assert kept.recv(1) == b""  # the server's end is closed: no thread of the stopped sandbox serves it
    finally:
        connection.close()
