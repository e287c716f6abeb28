"""/api/v1 on the local stack with the vendor sandbox, driven over HTTP with an API key as a client would:
account validation (a conflicting account), pricing (a non-sellable SKU, two currencies), a quote needing
approval and its result, tax through Stripe Tax, and status lookups of an activated deal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from deals import Deal
from flows import activate, correlation, sales_orders
from sync_api_client import call

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_customers(stack):
    """Two deals activated through the real workflows (their tax ids are now keys of two hub customers)."""
    from stack_driver import Hub

    hub = Hub(stack)
    return activate(hub, "Alpha")[0], activate(hub, "Beta")[0]


def test_an_account_whose_keys_belong_to_two_customers_is_a_conflict_not_a_guess(hub, two_customers):
    alpha, beta = two_customers
    # Given an account with Alpha's US tax id and Beta's German tax id
    account = {"name": "Merged Corp", "currency": "USD", "legal_entities": [
        {**alpha.entities[0], "entity_id": "LE-1"}, {**beta.entities[1], "entity_id": "LE-2"}]}
    # When a client validates it
    status, _, answer = call(hub.gateway, "POST", "/api/v1/accounts/validate", account)
    # Then the hub names both candidate customers and resolves to neither
    assert status == 200, answer
    assert answer["resolution"] == "conflict" and not answer["valid"]
    assert len(answer["conflicts"][0]["candidates"]) == 2 and answer["customer_id"] is None
    # and nothing was written: validating is read-only (no conflict record for an operator)
    assert not [e for e in hub.store().exceptions() if e["kind"] == "identity_conflict"
                and "Merged Corp" in str(e.get("detail"))]


def test_a_known_account_resolves_across_systems_and_lists_every_rule_it_fails(hub, two_customers):
    alpha, _ = two_customers
    # Given Alpha's CRM account id, and an entity without tax id billing in the wrong currency for its subsidiary
    account = {"account_id": alpha.account_id, "name": alpha.name, "currency": "USD", "legal_entities": [
        alpha.entities[0], {"entity_id": "LE-UK", "name": "Alpha Ltd", "currency": "USD", "subsidiary": "UK01"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/accounts/validate", account)
    assert status == 200, answer
    # Then it is Alpha's customer, with its ids in billing and the ERP
    assert answer["resolution"] == "resolved" and answer["matched_by"] == "xref:salesforce"
    systems = answer["systems"]
    assert systems["salesforce"] == alpha.account_id and any(k.startswith("stripe") for k in systems)
    assert any(k.startswith("netsuite") for k in systems)
    # and the data-quality rules it fails, each with its field
    failed = {(v["rule"], v["field"]) for v in answer["violations"]}
    assert failed == {("tax_id_required", "legal_entities[1].tax_id"),
                      ("currency_matches_subsidiary", "legal_entities[1].currency")}
    assert not answer["valid"]


def test_pricing_two_currencies_with_a_non_sellable_sku(hub):
    # Given a quote for a US and a German entity, one line in USD, one in EUR, a metered line, and a SKU not sold
    quote = {"currency": "USD", "account": {"name": "Gamma", "legal_entities": [
        {"entity_id": "LE-US", "name": "Gamma Inc.", "currency": "USD", "subsidiary": "US01"},
        {"entity_id": "LE-DE", "name": "Gamma GmbH", "currency": "EUR", "subsidiary": "DE01"}]},
        "lines": [{"sku": "PLATFORM-ENT", "quantity": "10", "legal_entity_id": "LE-US"},
                  {"sku": "PLATFORM-PRO", "quantity": "5", "currency": "EUR", "billing_frequency": "quarterly",
                   "legal_entity_id": "LE-DE"},
                  {"sku": "API-CALLS", "legal_entity_id": "LE-US",
                   "usage": {"metric": "api_calls", "unit": "call", "included_quantity": "1000000"}},
                  {"sku": "LEGACY-ONPREM", "legal_entity_id": "LE-US"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/quotes/price", quote)
    assert status == 200, answer
    lines = answer["lines"]
    # Then each line has the billing catalog's price in its currency (sandbox catalog: 1200 USD, 550 EUR a year)
    assert Decimal(lines[0]["unit_price"]) == Decimal("1200") and Decimal(lines[0]["extended_price"]) == 12000
    assert Decimal(lines[1]["unit_price"]) == Decimal("137.50") and lines[1]["periods"] == 4
    assert Decimal(lines[1]["extended_price"]) == Decimal("2750.00") and lines[1]["currency"] == "EUR"
    # the metered line carries its overage terms at the catalog price, nothing up front
    assert Decimal(lines[2]["extended_price"]) == 0
    assert Decimal(lines[2]["overage"]["overage_unit_price"]) == Decimal("0.0004")
    # the unknown SKU is not sellable, and says why
    assert not lines[3]["sellable"] and "unknown product LEGACY-ONPREM" in lines[3]["reasons"]
    assert not answer["sellable"]
    # and the totals are per entity and currency
    totals = {(t["legal_entity_id"], t["currency"]): Decimal(t["amount"]) for t in answer["totals"]}
    assert totals == {("LE-US", "USD"): Decimal("12000.00"), ("LE-DE", "EUR"): Decimal("2750.00")}


def test_a_line_priced_in_another_currency_than_its_subsidiary_books_is_not_sellable(hub):
    quote = {"currency": "USD", "account": {"name": "Delta", "legal_entities": [
        {"entity_id": "LE-DE", "name": "Delta GmbH", "subsidiary": "DE01"}]},
        "lines": [{"sku": "SSO", "legal_entity_id": "LE-DE"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/quotes/price", quote)
    assert status == 200 and not answer["lines"][0]["sellable"]
    assert "books in EUR" in answer["lines"][0]["reasons"][0]


def test_a_quote_over_the_threshold_waits_for_approval_and_get_returns_the_decision(hub):
    deal = Deal("Epsilon")
    # Given a quote worth 240,000 USD (the test stack's approval threshold is 200,000)
    quote = {"quote_id": f"Q-{deal.n}", "currency": "USD",
             "account": {"name": deal.name, "legal_entities": [deal.entities[0]]},
             "lines": [{"sku": "PLATFORM-ENT", "quantity": "200", "legal_entity_id": "LE-US"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/quotes", quote)
    assert status == 200, answer
    assert answer["state"] == "pending_approval" and Decimal(answer["amount"]) == Decimal("240000.00")
    assert "over 200000" in answer["reasons"][0]
    # and the same submission again (a client's retry) is the same quote, not a second approval request
    assert call(hub.gateway, "POST", "/api/v1/quotes", quote)[2]["exception_id"] == answer["exception_id"]
    assert len([e for e in hub.store().exceptions(f"quote:{quote['quote_id']}")]) == 1
    # When an operator approves it (the same operator call that decides a deal)
    hub.operator().decide(answer["exception_id"], approved=True, by="cfo@acme-saas.example")
    # Then GET returns the result
    status, _, after = call(hub.gateway, "GET", f"/api/v1/quotes/{quote['quote_id']}")
    assert status == 200 and after["state"] == "approved" and after["decided_by"] == "cfo@acme-saas.example"
    # and a decided quote cannot be changed under the same id
    changed = {**quote, "lines": [{**quote["lines"][0], "quantity": "300"}]}
    status, _, refused = call(hub.gateway, "POST", "/api/v1/quotes", changed)
    assert status == 409 and refused["code"] == "conflict" and refused["correlation_id"]


def test_a_quote_with_a_non_sellable_sku_needs_fixes_and_is_not_sent_for_approval(hub):
    quote = {"quote_id": "Q-FIX-1", "currency": "USD", "account": {"name": "Zeta", "tax_id": "US-1"},
             "lines": [{"sku": "LEGACY-ONPREM"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/quotes", quote)
    assert status == 200 and answer["state"] == "needs_fixes" and answer["exception_id"] is None
    assert ("known_product", "lines[0].sku") in {(v["rule"], v["field"]) for v in answer["violations"]}


def test_tax_through_stripe_tax_per_legal_entity(hub):
    # Given a priced quote for two entities shipped to Germany
    request = {"currency": "EUR", "ship_to": {"country": "DE", "postal_code": "10115", "city": "Berlin"},
               "customer_tax_id": "DE123456789",
               "legal_entities": [{"entity_id": "LE-DE", "name": "Eta GmbH"}, {"entity_id": "LE-NL", "name": "Eta BV"}],
               "lines": [{"sku": "PLATFORM-PRO", "amount": "2750.00", "legal_entity_id": "LE-DE"},
                         {"sku": "PREMIUM-SUPPORT", "amount": "100.00", "legal_entity_id": "LE-NL"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/tax/calculate", request)
    assert status == 200, answer
    # Then Stripe Tax calculated it, with the tax code per line
    assert answer["engine"] == "stripe_tax" and answer["reference"].startswith("taxcalc_")
    lines = {line["sku"]: line for line in answer["lines"]}
    assert lines["PLATFORM-PRO"]["tax_code"] == "txcd_10103001"
    assert lines["PREMIUM-SUPPORT"]["tax_code"] == "txcd_20060045"
    assert Decimal(lines["PLATFORM-PRO"]["tax_amount"]) == Decimal("522.50")
    totals = {t["legal_entity_id"]: t for t in answer["totals"]}
    assert Decimal(totals["LE-NL"]["total"]) == Decimal("119.00")
    # and the sandbox saw a request that keeps Stripe's contract
    assert not [v for v in hub.sandbox.violations if "tax" in v]


def test_status_lookups_of_an_activated_deal(hub, two_customers):
    alpha, _ = two_customers
    # the contract: each system's record and the workflow that made them
    status, _, contract = call(hub.gateway, "GET", f"/api/v1/contracts/{alpha.opportunity_id}")
    assert status == 200, contract
    assert contract["workflow"]["status"] == "completed" and contract["state"] == "completed"
    kinds = {(r["system"], r["kind"]) for r in contract["systems"]}
    assert {("stripe", "subscription"), ("netsuite", "sales_order")} <= kinds
    # the ERP order, by the ERP's own id
    order_id = next(r["id"] for r in contract["systems"] if r["kind"] == "sales_order")
    assert any(o for o in sales_orders(hub, alpha))
    status, _, order = call(hub.gateway, "GET", f"/api/v1/orders/{order_id}")
    assert status == 200 and order["kind"] == "order" and order["workflow"]["correlation_id"] == correlation(alpha)
    # the customer, across systems
    status, _, customer = call(hub.gateway, "GET", f"/api/v1/customers/{contract['customer_id']}")
    assert status == 200 and {"salesforce", "stripe", "netsuite"} <= {r["system"] for r in customer["systems"]}
    # the workflow by its correlation id
    status, _, run = call(hub.gateway, "GET", f"/api/v1/workflows/{correlation(alpha)}")
    assert status == 200 and run["workflow"]["workflow"] == "activation"
    # and an unknown record is a 404 in the error contract
    status, _, missing = call(hub.gateway, "GET", "/api/v1/invoices/in_does_not_exist")
    assert status == 404 and missing["code"] == "not_found" and missing["error"] == "NotFound"


def test_without_a_valid_api_key_the_gateway_answers_401_and_the_function_never_runs(hub):
    for key in (None, "not-a-key"):
        status, headers, answer = call(hub.gateway, "GET", "/api/v1/workflows/anything", key=key)
        assert status == 401 and answer["code"] == "api_key_invalid" and answer["error"] == "Unauthorized"
        assert headers.get("WWW-Authenticate") == 'ApiKey header="x-api-key"'


def test_over_the_usage_plan_rate_a_consumer_gets_429_with_retry_after(hub):
    # Given another consumer's key (the plan allows 10/s with a burst of 20 per key)
    other = "local-dev-api-key-billing-admin-000002"
    # When it sends 80 requests 16 at a time (faster than 10/s on any machine)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: call(hub.gateway, "GET", "/api/v1/workflows/nothing-here", key=other),
                                range(80)))
    refused = [(s, h, a) for s, h, a in answers if s == 429]
    # Then some are over the limit, answered 429 with Retry-After in the error contract; the rest reach the API
    assert refused and all(s == 404 for s, _, _ in answers if s != 429)
    _, headers, answer = refused[0]
    assert int(headers["Retry-After"]) >= 1 and answer["code"] == "rate_limited"
    # and the limit is per consumer: the tests' own key still gets through
    assert call(hub.gateway, "GET", "/api/v1/workflows/nothing-here")[0] == 404


def test_a_vendor_outage_is_a_typed_503_at_once_not_a_hang(hub):
    # Given Stripe Tax failing
    hub.sandbox.faults.inject("stripe", "tax.calculation.create", kind="500", times=3)
    request = {"currency": "EUR", "ship_to": {"country": "DE"}, "lines": [{"sku": "SSO", "amount": "110"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/tax/calculate", request)
    # Then the client gets 503 in the error contract after one attempt (a person waits: no in-call retries)
    assert status == 503 and answer["code"] == "vendor_unavailable" and answer["correlation_id"]
    assert call(hub.gateway, "POST", "/api/v1/tax/calculate", request)[0] == 503  # the second injected failure
    assert call(hub.gateway, "POST", "/api/v1/tax/calculate", request)[0] == 503  # the third
    assert call(hub.gateway, "POST", "/api/v1/tax/calculate", request)[0] == 200  # Stripe is back


def test_the_api_function_calls_only_what_its_template_policy_allows(hub, two_customers):
    from tools import iam_audit

    # Given every test above drove the API (lookups, validation, quotes, tax) - run them first in this module
    made = {"SyncApiFunction": hub.stack.aws_calls.get("SyncApiFunction", set())}
    operations = {f"{c.service}:{c.operation}" for c in made["SyncApiFunction"]}
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "secretsmanager:GetSecretValue"} <= operations
    # Then its role (least privilege: reads, and puts on the workflow table only) allows each of them
    assert iam_audit.audit(hub.stack, made) == []
