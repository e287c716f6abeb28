"""What reaches the API's resolver: JSON only (found by schemathesis: a body that is not UTF-8, or a malformed
multipart one, made Powertools raise, a 502)."""

from __future__ import annotations

import base64
import json

import pytest

from erphub.api.media import refuse_unsupported

pytestmark = pytest.mark.unit


def event(body: str | None, content_type: str | None = "application/json", encoded: bool = False) -> dict:
    headers = {"Content-Type": content_type} if content_type else {}
    return {"body": body, "headers": headers, "isBase64Encoded": encoded, "requestContext": {"requestId": "r-1"}}


def test_json_and_no_body_pass():
    assert refuse_unsupported(event('{"a": 1}')) is None
    assert refuse_unsupported(event('{"a": 1}', "application/merge-patch+json; charset=utf-8")) is None
    assert refuse_unsupported(event(None, None)) is None
    assert refuse_unsupported(event(base64.b64encode("{\"n\": \"é\"}".encode()).decode(), encoded=True)) is None


def test_another_media_type_is_415_in_the_error_contract():
    answer = refuse_unsupported(event("a=1", "multipart/form-data"))
    assert answer["statusCode"] == 415
    assert json.loads(answer["body"]) == {"error": "UnsupportedMediaType", "code": "unsupported_media_type",
                                          "message": "the body must be application/json, not multipart/form-data",
                                          "correlation_id": "r-1"}


def test_bytes_that_are_not_utf8_are_400():
    answer = refuse_unsupported(event(base64.b64encode(b"B\x0b\xb8\x14#S").decode(), encoded=True))
    assert answer["statusCode"] == 400 and json.loads(answer["body"])["code"] == "body_invalid"
