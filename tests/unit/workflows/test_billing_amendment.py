"""Amendments keep one interval and retry safely: the change is built from the step's input (the terms in force),
so every attempt of the step sends the same change, and the revert needs no result of the amend step."""

from decimal import Decimal

import pytest

from erphub.workflows.actions import billing as billing_actions
from erphub.workflows.run import Run

TERMS = {"billing_frequency": "annual", "currency": "USD", "term_start": "2024-06-01", "term_end": "2025-05-31",
         "version": 1, "items": [{"sku": "PLATFORM-ENT", "quantity": "100", "legal_entity_id": "LE-US"},
                                 {"sku": "API-CALLS", "quantity": "1", "legal_entity_id": "LE-US",
                                  "usage": {"metric": "api_calls", "overage_unit_price": "0.0004"}}]}


class FakeBilling:
    system = "stripe"

    def __init__(self):
        self.changes = []

    def get_subscription(self, subscription_id):  # the vendor's state must not shape the request
        raise AssertionError("the change is built from the step's input, not from what billing shows now")

    def change_subscription(self, subscription_id, change, *, idempotency_key):
        self.changes.append((subscription_id, change.model_dump(mode="json"), idempotency_key))


def _run(billing_result=None) -> Run:
    change = {"kind": "contract", "contract_id": "006A", "version": 2, "billing_frequency": "quarterly",
              "account": {"account_id": "001A", "name": "Acme",
                          "legal_entities": [{"entity_id": "LE-US", "name": "Acme Inc.", "currency": "USD"}]},
              "items": [{"sku": "PLATFORM-ENT", "quantity": "50", "legal_entity_id": "LE-US"},
                        {"sku": "ANALYTICS", "quantity": "10", "legal_entity_id": "LE-US"}]}
    envelope = {"event_id": "e2", "type": "crm.opportunity.amended", "source": "salesforce",
                "source_event_id": "n2", "occurred_at": "2024-09-01T10:00:00Z", "correlation_id": "c2",
                "business_key": "006A", "version": "2", "data": change}
    links = [{"kind": "subscription", "entity": "LE-US", "record_id": "sub_1", "contract_id": "006A"}]
    state = {"event": envelope, "identity": {"customer_id": "cust-1", "links": links, "terms": TERMS}}
    if billing_result is not None:
        state["billing"] = billing_result
    return Run(action="billing.amend", workflow="amendment", state=state)


@pytest.fixture
def billing(tables, monkeypatch):
    fake = FakeBilling()
    monkeypatch.setattr(billing_actions, "connector", lambda kind: fake)
    return fake


def test_every_attempt_of_the_amend_step_sends_the_same_change(billing):
    # When the amend step runs twice (a lost response, then Step Functions retries it)
    billing_actions.amend(_run())
    billing_actions.amend(_run())
    # Then both attempts send one identical change under one key: +50 seats, the new module, every item quarterly
    first, second = billing.changes
    assert first == second
    subscription, change, key = first
    assert (subscription, key) == ("sub_1", "c2:v2:billing.amend:LE-US")
    assert change["quantities"] == {"PLATFORM-ENT": "150"} and change["billing_frequency"] == "quarterly"
    assert [i["sku"] for i in change["add_items"]] == ["ANALYTICS"]


def test_the_revert_works_without_the_amend_steps_result(billing):
    # Given an amend step that failed after billing took the change (no $.billing result in the state)
    billing_actions.revert_amendment(_run())
    # Then the revert puts back the terms in force: quantities, frequency, and removes the added module
    [(subscription, change, key)] = billing.changes
    assert subscription == "sub_1" and key == "c2:v2:billing.revert:LE-US"
    assert change["quantities"] == {"PLATFORM-ENT": "100", "ANALYTICS": "0"}
    assert change["billing_frequency"] == "annual"
    assert Decimal(change["quantities"]["ANALYTICS"]) == 0


@pytest.mark.parametrize(("period_end", "term_start", "aligned"), [
    ("2027-06-01", "2025-06-01", "2025-06-01"),  # anchored on the anniversaries: aligned, two periods back
    ("2027-12-01", "2025-06-01", "2025-12-01"),  # anchored at creation (Dec): the renewal is half a year off
    ("2025-03-01", "2025-06-01", "2025-06-01"),  # quarterly cycle, the renewal starts one period ahead
])
def test_renewal_alignment_is_measured_on_billings_cycle(period_end, term_start, aligned):
    from datetime import date

    from erphub.canonical import Subscription

    subscription = Subscription(subscription_id="sub_1", customer_id="cus_1", status="active",
                                current_period_end=date.fromisoformat(period_end))
    frequency = "quarterly" if period_end == "2025-03-01" else "annual"
    moved = billing_actions.on_cycle(subscription, date.fromisoformat(term_start), frequency)
    assert moved.current_period_end == date.fromisoformat(aligned)
