"""The contract files and their checker: each file names its source and version, the checker finds operations
and refuses what the vendor's published description does not allow, and the sandbox's own error bodies have
the vendor's error shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import local.sandbox
from local.sandbox import contracts
from local.sandbox.core import Request

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("vendor", local.sandbox.VENDORS)
def test_every_contract_names_its_source_and_version(vendor):
    files = sorted(Path(contracts.ROOT, vendor).glob("*.json"))
    assert files
    for file in files:
        raw = json.loads(file.read_text())
        assert raw["vendor"] == vendor and raw["source"] and raw["version"] and isinstance(raw["unconfirmed"], list)
        assert all({"name", "method", "path"} <= set(op) for op in raw["operations"])


def test_a_literal_path_wins_over_a_template():
    stripe = contracts.load("stripe")
    assert stripe.find("GET", "/v1/customers/search").name == "customer.search"
    assert stripe.find("POST", "/v1/customers/cus_1").name == "customer.update"
    assert stripe.find("PUT", "/v1/customers/cus_1") is None


def test_form_bodies_are_checked_field_by_field():
    stripe = contracts.load("stripe")
    good = b"customer=cus_1&items[0][price]=price_1&items[0][quantity]=10&proration_behavior=none"
    assert stripe.check("POST", "/v1/subscriptions", [], good)[1] == []
    _, problems = stripe.check("POST", "/v1/subscriptions", [],
                               b"items[0][price]=p&items[0][quantity]=1.5&proration_behavior=sometimes&colour=red")
    assert problems == ["body.customer: required", "body.items[0].quantity: '1.5' is not integer",
                        "body.proration_behavior: 'sometimes' is not one of "
                        "['always_invoice', 'create_prorations', 'none']",
                        "body.colour: not a field of this operation"]


def test_json_bodies_and_queries_are_checked():
    hubspot = contracts.load("hubspot")
    _, problems = hubspot.check("PATCH", "/crm/v3/objects/companies/1", [("idProperty", "x")],
                                json.dumps({"properties": {"erphub_health_score": 41.5}}).encode())
    assert problems == ["body.properties.erphub_health_score: 41.5 is not string"]
    _, problems = contracts.load("stripe").check("GET", "/v1/invoices", [("limit", "500"), ("sort", "x")], b"")
    assert problems == ["query.limit: above 100", "query.sort: not a field of this operation"]


@pytest.mark.parametrize("vendor", local.sandbox.VENDORS)
def test_the_sandbox_answers_errors_in_the_vendors_shape(vendor):
    sandbox_vendor = {v.name: v for v in local.sandbox.vendors()}[vendor]
    request = Request("POST", "/x", [], {}, b"", "http://sandbox/x")
    contract = contracts.load(vendor)
    for response in (sandbox_vendor.rate_limited(2), sandbox_vendor.server_error(503),
                     sandbox_vendor.not_found(request), sandbox_vendor.contract_refusal(request, ["body.x: required"])):
        assert contract.check_error(response.body) == [], (vendor, response.body)
