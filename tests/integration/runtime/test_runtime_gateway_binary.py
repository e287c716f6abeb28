"""BinaryMediaTypes as API Gateway applies them: a body whose media type is one of the API's binary types reaches
the handler base64-encoded, byte for byte (the webhook API declares "*~1*" so that signatures verify exactly)."""

import base64
import json
import urllib.request
from pathlib import Path

import pytest

from local.functions import Invocation
from local.gateway import Gateway
from local.stack import HubStack
from local.wiring import Route

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


class Recorder:
    """Stands in for the functions: keeps the event the gateway built."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def invoke(self, function_id: str, event: dict) -> Invocation:
        self.events.append(event)
        return Invocation(json.dumps({"statusCode": 202, "body": "{}"}).encode())


def post(gateway: Gateway, path: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(gateway.url + path, data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.status


def test_a_body_of_a_binary_media_type_arrives_base64_and_others_as_text():
    # Given one route on an API whose BinaryMediaTypes is */* and one on an API without any
    functions = Recorder()
    gateway = Gateway([Route("POST", "/binary", "Fn", "Binary", ("*/*",)), Route("POST", "/text", "Fn", "Text")],
                      functions)
    gateway.start()
    try:
        body = '{"id": "evt_1", "name": "Zoë"}'.encode()
        # When the same JSON body is posted to both
        assert post(gateway, "/binary", body, "application/json; charset=utf-8") == 202
        assert post(gateway, "/text", body, "application/json") == 202
    finally:
        gateway.stop()
    # Then the binary route's handler gets it base64-encoded, byte for byte; the other as text
    binary, text = functions.events
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == body
    assert text["isBase64Encoded"] is False and text["body"] == body.decode()


def test_the_webhook_routes_of_the_real_template_carry_their_api_binary_media_types():
    # Given the real template, whose WebhookApi declares BinaryMediaTypes ["*~1*"]
    with HubStack(ROOT / "template.yaml", sandbox=False, runtime=False, preload=False) as stack:
        routes = {route.path: route for route in stack.wiring.routes}
    # Then its webhook route reads them as */*, and the operator API's routes have none
    assert routes["/webhooks/{source}"].binary_media_types == ("*/*",)
    assert all(not route.binary_media_types for path, route in routes.items() if path.startswith("/ops/"))
