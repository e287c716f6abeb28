"""The role rule, enforced once for every route of the operator API, before request validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ops_api_events import Context, api_event

from erphub.operations.api import create_app
from erphub.operations.roles import groups_of

DOCUMENT = json.loads((Path(__file__).resolve().parents[3] / "openapi" / "ops-v1.json").read_text())
OPERATIONS = sorted((m.upper(), p) for p, item in DOCUMENT["paths"].items() for m in item)


def concrete(path: str) -> str:
    return path.replace("{exception_id}", "exc-1").replace("{correlation_id}", "run-1")


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_verified_caller_is_401(app, method, path):
    response = app.resolve(api_event(method, concrete(path), body={}), Context())
    assert response["statusCode"] == 401 and json.loads(response["body"])["error"] == "Unauthenticated"


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op[0] != "GET"])
def test_a_viewer_acting_is_403_even_with_a_body_validation_would_refuse(app, method, path):
    for body in ({}, {"unexpected": [1, 2]}, None):
        response = app.resolve(api_event(method, concrete(path), "viewer", body=body), Context())
        assert response["statusCode"] == 403, (body, response["body"])


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op[0] != "GET"])
def test_an_operator_reaches_validation(app, method, path):
    response = app.resolve(api_event(method, concrete(path), "viewer,operator", body={"unexpected": 1}), Context())
    assert response["statusCode"] in (404, 422, 400), response["body"]


def test_a_group_outside_the_roles_reads_nothing(app):
    assert app.resolve(api_event("GET", "/ops/v1/me", "finance"), Context())["statusCode"] == 403
    assert app.resolve(api_event("GET", "/ops/v1/me", "viewer"), Context())["statusCode"] == 200


@pytest.mark.parametrize(("claim", "groups"), [
    ("operator", ["operator"]), ("viewer,operator", ["viewer", "operator"]),
    ("[viewer operator]", ["viewer", "operator"]),
    (["viewer"], ["viewer"]), ("", []), (None, [])])
def test_groups_in_every_form_api_gateway_passes_them(claim, groups):
    assert groups_of(claim) == groups
