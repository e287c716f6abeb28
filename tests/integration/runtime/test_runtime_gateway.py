"""The local API Gateway: routes of the template, the REST proxy event, API Gateway's answers."""

import http.client
import json
import os
import urllib.parse

import pytest

pytestmark = pytest.mark.integration


def request(stack, method, path, body=None, headers=()):
    url = urllib.parse.urlsplit(stack.endpoints["gateway"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest(method, path)
    for name, value in headers:
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body or b"")))
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, response.headers, response.read()


def test_path_parameter_query_and_multi_value_headers_reach_the_handler(stack):
    # Given a GET route with a path parameter
    # When it is called with repeated query parameters and a repeated header
    status, headers, body = request(stack, "GET", "/items/42?tag=a&tag=b", headers=[("X-Multi", "one"),
                                                                                   ("X-Multi", "two")])
    # Then the handler saw the REST proxy event API Gateway builds, with its own resolved environment
    assert status == 200
    seen = json.loads(body)
    assert seen["resource"] == "/items/{id}" and seen["path"] == "/items/42" and seen["method"] == "GET"
    assert seen["pathParameters"] == {"id": "42"}
    assert seen["query"] == {"tag": ["a", "b"]}
    assert seen["multi"] and "one" in ",".join(seen["multi"]) and "two" in ",".join(seen["multi"])
    assert seen["sourceIp"] == "127.0.0.1" and seen["requestId"] and seen["stage"] == "Prod"
    assert seen["greeting"] == "hi-from-samconfigus-east-1"  # samconfig [local] override, then !Sub
    # and multiValueHeaders of the response come back as repeated headers
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert headers["x-amzn-RequestId"] == seen["requestId"]


def test_binary_body_round_trips_through_base64(stack):
    payload = os.urandom(256) + b"\xff\xfe"
    status, headers, body = request(stack, "POST", "/echo", payload, [("Content-Type", "application/octet-stream")])
    assert status == 200
    assert body == payload
    assert headers["Content-Type"] == "application/octet-stream"


def test_greedy_path_and_any_method(stack):
    status, _, body = request(stack, "DELETE", "/files/a/b/c.txt")
    assert status == 200
    assert json.loads(body)["pathParameters"] == {"proxy": "a/b/c.txt"}


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/items/42"), ("GET", "/items")])
def test_unmounted_route_is_answered_like_api_gateway(stack, method, path):
    status, _headers, body = request(stack, method, path)
    assert status == 403
    assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_a_handler_crash_is_a_502(stack):
    status, _, body = request(stack, "GET", "/crash")
    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}
