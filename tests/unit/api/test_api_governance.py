"""Governance of the published contracts: openapi/api-v1.json and schemas/ are what the code generates (drift),
and what the code generates now does not break a client of the committed ones (compatibility). A breaking
change to /api/v1 belongs in /api/v2; to an event, in a new schema_version (docs/api.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import api_compat, generated, openapi, schemas

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_openapi_document_is_what_the_code_generates():
    assert generated.drift({openapi.API_V1: openapi.api_v1_text()}) == [], "run `make openapi`"


def test_the_code_does_not_break_v1_clients_of_the_committed_document():
    committed = json.loads(openapi.API_V1.read_text())
    assert api_compat.breaking_openapi(committed, openapi.render_api_v1()) == []


def test_the_document_is_openapi_3_1_and_every_operation_needs_an_api_key():
    document = openapi.render_api_v1()
    assert document["openapi"].startswith("3.1")
    assert document["security"] == [{"apiKey": []}]
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey", "in": "header", "name": "x-api-key", "description": "the consumer's API Gateway key"}
    for path, item in document["paths"].items():
        assert path.startswith("/api/v1/")
        for operation in item.values():
            assert {"200", "401", "429", "422"} <= set(operation["responses"]), path


def test_the_code_does_not_break_consumers_of_the_committed_event_schemas():
    committed = {str(p.relative_to(schemas.SCHEMA_DIR)): json.loads(p.read_text())
                 for p in schemas.SCHEMA_DIR.rglob("*.json")}
    generated_now = {name: json.loads(text) for name, text in schemas.render().items()}
    assert api_compat.breaking_events(committed, generated_now) == []


def test_every_route_of_the_template_is_in_the_document_and_back():
    from local.cfn_yaml import load_template

    events = load_template(ROOT / "template.yaml")["Resources"]["SyncApiFunction"]["Properties"]["Events"]
    routes = {(e["Properties"]["Method"].lower(), e["Properties"]["Path"]) for e in events.values()}
    documented = {(m, p) for p, item in openapi.render_api_v1()["paths"].items() for m in item}
    assert routes == documented
