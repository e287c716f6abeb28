"""EventEnvelope.of: the sources' way to wrap a data model, the constructor's result without building every model."""

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from erphub.canonical import EventEnvelope, EventType, Invoice, Payment

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
HEADER = {"event_id": "e-1", "type": EventType.INVOICE_PAID, "source": "stripe", "source_event_id": "evt_1",
          "occurred_at": datetime(2026, 3, 1, 12, tzinfo=UTC), "correlation_id": "customer:stripe:cus_1",
          "business_key": "cus_1", "version": "1772366400"}


def _invoice() -> Invoice:
    return Invoice(invoice_id="in_1", customer_id="cus_1", status="paid", currency="EUR", total=Decimal("12.50"))


def test_it_is_the_envelope_the_constructor_makes():
    # Given an invoice; When it is wrapped both ways
    wrapped, constructed = EventEnvelope.of(_invoice(), **HEADER), EventEnvelope(**HEADER, data=_invoice())

    # Then they are equal, serialize alike and know the same fields as set
    assert wrapped == constructed and type(wrapped) is EventEnvelope
    assert wrapped.model_dump_json() == constructed.model_dump_json()
    assert wrapped.model_fields_set == constructed.model_fields_set
    assert EventEnvelope.model_validate_json(wrapped.model_dump_json()) == constructed


@pytest.mark.parametrize("change", [
    {"occurred_at": "yesterday"},                  # a header field the constructor refuses
    {"type": "billing.invoice.lost"},              # an event type that does not exist
    {"type": EventType.PAYMENT_FAILED},            # an invoice in a payment event
    {"unexpected": "field"},                       # extra="forbid"
])
def test_it_refuses_what_the_constructor_refuses(change):
    # Given a header the constructor refuses with this invoice
    header = {**HEADER, **change}
    with pytest.raises(ValidationError):
        EventEnvelope(**header, data=_invoice())

    # When / Then the envelope refuses it too
    with pytest.raises(ValidationError):
        EventEnvelope.of(_invoice(), **header)


def test_data_that_is_not_a_built_model_is_validated_by_the_constructor():
    # Given the data as a dict, as a caller might pass it
    data = _invoice().model_dump()

    # When / Then it is validated into its model as the constructor does, and refused when it is wrong
    assert EventEnvelope.of(data, **HEADER).data == _invoice()
    payment = Payment(payment_id="pi_1", amount=Decimal(1), currency="EUR", status="failed")
    with pytest.raises(ValidationError):
        EventEnvelope.of(payment, **HEADER)


def test_a_stripe_invoice_builds_the_validators_of_its_own_models_only():
    # Given a fresh interpreter; When a Stripe invoice.paid webhook is normalized
    script = """
import json
from erphub.canonical import business, EventEnvelope
from erphub.sources import get_source
from erphub.sources.inbound import VendorEvent
body = open("events/stripe/invoice.paid.json", "rb").read()
payload = json.loads(body)
envelope = get_source("stripe").normalize(VendorEvent(payload["id"], payload["type"], payload, body))
built = sorted(name for name in ("Contract", "Account", "Subscription", "Invoice", "InvoiceLine", "Payment",
                                 "RenewalRisk", "WorkflowOutcome") if getattr(business, name).__pydantic_complete__)
print(envelope.type, built, EventEnvelope.__pydantic_complete__)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT / "layers" / "hub" / "python"), "PATH": ""})

    # Then only the invoice's models were built, not the other kinds nor the whole envelope union
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["billing.invoice.paid", "['Invoice',", "'InvoiceLine']", "False"]
