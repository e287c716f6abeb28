"""The compatibility checker on crafted changes of the real documents: each breaking change is caught and named,
each additive one passes (a checker that passes everything would fail here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tools import api_compat

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
V1 = json.loads((ROOT / "openapi" / "api-v1.json").read_text())


def _events() -> dict:
    base = ROOT / "schemas"
    return {str(p.relative_to(base)): json.loads(p.read_text()) for p in sorted(base.rglob("*.json"))}


def changed(edit) -> dict:
    doc = copy.deepcopy(V1)
    edit(doc)
    return doc


def schemas(doc: dict) -> dict:
    return doc["components"]["schemas"]


def test_the_same_document_is_compatible():
    assert api_compat.breaking_openapi(V1, copy.deepcopy(V1)) == []


def test_a_removed_path_and_a_removed_method_break_v1():
    doc = changed(lambda d: (d["paths"].pop("/api/v1/tax/calculate"), d["paths"]["/api/v1/quotes"].pop("post")))
    found = api_compat.breaking_openapi(V1, doc)
    assert "/api/v1/tax/calculate: path removed" in found and "POST /api/v1/quotes: operation removed" in found


def test_a_removed_response_field_breaks_v1():
    doc = changed(lambda d: schemas(d)["AccountValidation"]["properties"].pop("matched_by"))
    assert any("response 200.matched_by: field removed" in f for f in api_compat.breaking_openapi(V1, doc))


def test_a_response_field_no_longer_required_breaks_v1():
    doc = changed(lambda d: schemas(d)["AccountValidation"]["required"].remove("resolution"))
    assert any("resolution: no longer required" in f for f in api_compat.breaking_openapi(V1, doc))


def test_a_newly_required_request_field_breaks_v1():
    doc = changed(lambda d: schemas(d)["AccountInput"].setdefault("required", []).append("domain"))
    assert any("request.domain: newly required" in f for f in api_compat.breaking_openapi(V1, doc))


def test_a_narrowed_request_type_breaks_v1():
    # quantity accepted a number or a decimal string; now only a string
    def edit(d):
        schemas(d)["QuoteLine"]["properties"]["quantity"]["anyOf"] = [
            v for v in schemas(d)["QuoteLine"]["properties"]["quantity"]["anyOf"] if v["type"] == "string"]
    found = api_compat.breaking_openapi(V1, changed(edit))
    assert any("quantity: type narrowed" in f for f in found), found


def test_a_narrowed_request_enum_and_length_break_v1():
    def edit(d):
        schemas(d)["BillingFrequency"]["enum"].remove("semiannual")
        schemas(d)["QuoteLine"]["properties"]["sku"]["maxLength"] = 20
    found = api_compat.breaking_openapi(V1, changed(edit))
    assert any("enum narrowed" in f and "semiannual" in f for f in found)
    assert any("sku: maxLength narrowed from 200 to 20" in f for f in found)


def test_a_response_type_that_gains_a_value_breaks_clients_that_read_it():
    def edit(d):
        schemas(d)["QuoteStatus"]["properties"]["state"]["enum"].append("escalated")
    assert any("enum widened" in f for f in api_compat.breaking_openapi(V1, changed(edit)))


def test_additive_changes_are_compatible():
    def edit(d):
        schemas(d)["AccountInput"]["properties"]["website"] = {"type": "string"}  # optional request field
        schemas(d)["AccountValidation"]["properties"]["score"] = {"type": "number"}  # response field
        d["paths"]["/api/v1/products/{sku}"] = {"get": {"responses": {}}}  # a new path
        schemas(d)["BillingFrequency"]["enum"].append("biennial")  # a request enum accepts more
    assert api_compat.breaking_openapi(V1, changed(edit)) == []


def test_event_schemas_removed_field_removed_type_and_newly_required_break():
    old = _events()
    new = copy.deepcopy(old)
    new["data/contract.schema.json"]["properties"].pop("amount")
    new["data/invoice.schema.json"]["required"].append("number")
    first_type = next(iter(new["event-types.json"]))
    new["event-types.json"].pop(first_type)
    found = api_compat.breaking_events(old, new)
    assert any("contract.schema.json" in f and "amount: field removed" in f for f in found)
    assert any("invoice.schema.json" in f and "number: newly required" in f for f in found)
    assert f"event type {first_type}: removed" in found


def test_event_schemas_accept_a_new_optional_field():
    old = _events()
    new = copy.deepcopy(old)
    new["data/contract.schema.json"]["properties"]["region"] = {"type": "string"}
    assert api_compat.breaking_events(old, new) == []
