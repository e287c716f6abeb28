"""Nobody unauthenticated gets into the operator API (401, from the gateway's Cognito authorizer, before the
function runs); a viewer reads and is refused every acting route (403); an operator passes. Every operation
of the generated OpenAPI document is covered; tokens are real ones of the embedded user pool, forged ones,
tampered ones and expired ones signed with the pool's own key."""

from __future__ import annotations

import base64
import gzip
import json
import time
from importlib import resources

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from ops_operations import operations

pytestmark = [pytest.mark.e2e]
ACTING = [op for op in operations() if op[0] != "GET"]
READING = [op for op in operations() if op[0] == "GET"]
# each path parameter of the document, as a value naming nothing that exists
PLACEHOLDERS = {"exception_id": "no-such-exception", "correlation_id": "no-such-run", "queue": "no-such-dlq",
                "source": "salesforce", "source_event_id": "no-such-event", "replay_name": "no-such-replay",
                "subject": "deal", "subject_id": "no-such-deal", "reconciliation_id": "no-such-reconciliation"}
# operations that need no record and take no body: an operator past the role rule simply starts them
STARTS = {("POST", "/reconciliations")}
NONE_HEADER = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()


def call(api: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> requests.Response:
    headers = {"Authorization": token} if token is not None else {}
    url = api + path
    for name, value in PLACEHOLDERS.items():
        url = url.replace("{" + name + "}", value)
    return requests.request(method, url, headers=headers, json=body if method != "GET" else None, timeout=30)


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def pool_signed(claims: dict) -> str:
    """A token signed with the embedded pool's own private key (moto ships it): only the claims can be wrong."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    key = RSAKey.import_key(json.loads(gzip.decompress(raw)))
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def test_the_operations_cover_every_action():
    assert {path.rsplit("/", 1)[-1] for _, path in ACTING} >= {
        "approve", "reject", "fix", "choose", "resume", "retry", "abandon", "assign", "comments"}


@pytest.mark.parametrize(("method", "path"), operations())
def test_no_token_is_401_before_the_function_runs(api, method, path):
    response = call(api, method, path, body={})
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


@pytest.mark.parametrize(("method", "path"), ACTING)
def test_a_viewer_is_403_on_every_acting_route_whatever_the_body(api, tokens, method, path):
    viewer = tokens["viewer"]["IdToken"]
    for body in ({}, {"note": "x", "reason": "x", "owner": "x", "text": "x", "customer_id": "x", "changes": {}}):
        response = call(api, method, path, viewer, body)
        assert response.status_code == 403, (body, response.text)
        assert response.json()["error"] == "Forbidden"


@pytest.mark.parametrize(("method", "path"), ACTING)
def test_an_operator_passes_the_role_rule(api, tokens, method, path):
    response = call(api, method, path, tokens["operator"]["IdToken"], {"reason": "x", "owner": "x", "text": "x",
                                                                         "customer_id": "x", "changes": {"a": 1}})
    # past authentication and roles: the record is unknown, or (recovery routes) the body is not theirs
    assert response.status_code in ((200,) if (method, path) in STARTS else (404, 422)), response.text


def test_the_placeholders_cover_every_path_parameter():
    named = {part[1:-1] for _, path in operations() for part in path.split("/") if part.startswith("{")}
    assert named <= set(PLACEHOLDERS)


@pytest.mark.parametrize(("method", "path"), READING)
def test_a_viewer_reads(api, tokens, method, path):
    response = call(api, method, path, tokens["viewer"]["IdToken"])
    assert response.status_code in (200, 404), response.text
    assert call(api, "GET", "/me", tokens["viewer"]["IdToken"]).json()["groups"] == ["viewer"]


def test_bad_tokens_are_401(api, tokens):
    operator = tokens["operator"]
    genuine = claims_of(operator["IdToken"])
    payload = operator["IdToken"].split(".")[1]
    promoted = base64.urlsafe_b64encode(json.dumps({**claims_of(tokens["viewer"]["IdToken"]),
                                                    "cognito:groups": ["operator"]}).encode()).rstrip(b"=").decode()
    foreign_key = RSAKey.generate_key(2048, parameters={"kid": "not-the-pools"})
    bad = {
        "garbage": "not-a-jwt",
        "access token instead of the ID token": operator["AccessToken"],
        "viewer's token with operator groups pasted in": f"{tokens['viewer']['IdToken'].split('.')[0]}.{promoted}."
                                                         f"{tokens['viewer']['IdToken'].split('.')[2]}",
        "unsigned": f"{NONE_HEADER}.{payload}.",
        "signed by another key": jwt.encode({"alg": "RS256", "kid": "not-the-pools"}, genuine, foreign_key),
        "expired": pool_signed({**genuine, "exp": int(time.time()) - 5}),
        "another pool": pool_signed({**genuine, "iss": genuine["iss"] + "x"}),
        "another app client": pool_signed({**genuine, "aud": "some-other-client"}),
    }
    for why, token in bad.items():
        response = call(api, "POST", "/exceptions/{exception_id}/abandon", token, {"reason": "x"})
        assert response.status_code == 401, why
    # and the genuine token, re-signed with the pool's key and unchanged, passes: the refusals above are the claims'
    assert call(api, "GET", "/me", pool_signed(genuine)).status_code == 200
    assert call(api, "GET", "/me", "Bearer " + operator["IdToken"]).status_code == 200
