"""Invoice and payment posting to the ERP from the FIFO queue: invoice before payment, each posted once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from deals import post
from flows import activate, billing_customers

from local.stack import FunctionError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EVENTS = Path(__file__).resolve().parents[3] / "events" / "stripe"


def stripe_event(name: str, customer: str, invoice_id: str, payment_id: str = "") -> bytes:
    """A Stripe sample with this customer's ids (and fresh event ids, so each is a new delivery)."""
    text = (EVENTS / f"{name}.json").read_text()
    text = text.replace("cus_Q8mZr4TnVb2XyA", customer).replace("in_1PLx3aKZ8gJ0aBcDinv0001", invoice_id)
    body = json.loads(text.replace("pi_3PQ2a9KZ8gJ0aBcD0inv001", payment_id or "pi_unused"))
    body["id"] = f"evt_{uuid.uuid4().hex[:20]}"
    return json.dumps(body).encode()


def test_an_invoice_and_its_payment_post_once_in_order(hub):
    # Given an activated customer whose billing sends invoice.finalized, payment succeeded, invoice.paid
    deal, _ = activate(hub, "Posting")
    customer = next(c["id"] for c in billing_customers(hub, deal) if c["metadata"]["legal_entity_id"] == "LE-US")
    invoice_id, payment_id = f"in_{uuid.uuid4().hex[:16]}", f"pi_{uuid.uuid4().hex[:16]}"
    for name in ("invoice.finalized", "payment_intent.succeeded", "invoice.paid"):
        status, body = post(hub.gateway, "stripe", stripe_event(name, customer, invoice_id, payment_id))
        assert status == 202, body
    # Then the ERP holds one invoice (for the US entity's ERP customer) and one payment applied to it
    payments = hub.stack.wait_until(lambda: [p for p in hub.records("netsuite", "customerPayment")
                                             if payment_id in (p.get("memo") or "")], timeout=30)
    ledger = hub.store().created(f"posting:stripe:{invoice_id}", "invoice")
    assert len(ledger) == 1 and len(payments) == 1
    assert payments[0]["apply"]["items"][0]["doc"]["externalId"] == ledger[0]["record_id"]
    assert payments[0]["customer"]["externalId"] == f"{deal.account_id}:LE-US"
    assert len([i for i in hub.records("netsuite", "invoice") if i["externalId"] == ledger[0]["record_id"]]) == 1


def test_a_payment_whose_invoice_is_not_in_the_erp_yet_fails_and_then_posts(hub):
    deal, _ = activate(hub, "EarlyPay")
    customer = next(c["id"] for c in billing_customers(hub, deal) if c["metadata"]["legal_entity_id"] == "LE-US")
    invoice_id, payment_id = f"in_{uuid.uuid4().hex[:16]}", f"pi_{uuid.uuid4().hex[:16]}"

    def envelope(name: str) -> dict:
        from erphub.sources.stripe import StripeSource  # normalized exactly as the ingest path does

        raw = stripe_event(name, customer, invoice_id, payment_id)
        [event] = StripeSource().parse(_request(raw))
        return json.loads(StripeSource().normalize(event).model_dump_json())

    payment = {"action": "erp.post_payment", "state": {"event": envelope("payment_intent.succeeded")}}
    # When the payment reaches the ERP adapter before its invoice, it is refused (the FIFO message retries)
    with pytest.raises(FunctionError) as refused:
        hub.stack.invoke("ErpAdapterFunction", payment)
    assert refused.value.error_type == "NotFound" and "not in the ERP yet" in refused.value.error_message
    # and once the invoice is posted, the same payment posts, applied to it
    hub.stack.invoke("ErpAdapterFunction", {"action": "erp.post_invoice",
                                            "state": {"event": envelope("invoice.finalized")}})
    posted = hub.stack.invoke("ErpAdapterFunction", payment)
    again = hub.stack.invoke("ErpAdapterFunction", payment)
    assert posted == again and len([p for p in hub.records("netsuite", "customerPayment")
                                    if payment_id in (p.get("memo") or "")]) == 1


def _request(raw: bytes):
    from datetime import UTC, datetime

    from erphub.sources.inbound import Headers, InboundRequest

    return InboundRequest(method="POST", url="http://localhost/webhooks/stripe", headers=Headers({}), body=raw,
                          received_at=datetime.now(UTC))
