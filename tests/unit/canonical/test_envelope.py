from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from erphub.canonical import (
    Account,
    Contract,
    EventEnvelope,
    EventType,
    Invoice,
    LegalEntity,
    SubscriptionItem,
    UsageTerms,
    correlation_id_for,
    event_id_for,
)

pytestmark = pytest.mark.unit


def _contract() -> Contract:
    return Contract(
        contract_id="0065g00000ABC",
        version=2,
        account=Account(
            account_id="0015g00000XYZ",
            name="Acme GmbH",
            legal_entities=[LegalEntity(entity_id="acme-de", name="Acme GmbH", country="DE", currency="EUR")],
        ),
        currency="EUR",
        items=[
            SubscriptionItem(sku="PLATFORM", quantity=Decimal(50), unit_price=Decimal("30.00")),
            SubscriptionItem(sku="API-CALLS", usage=UsageTerms(metric="api_calls", included_quantity=Decimal(10000),
                                                               overage_unit_price=Decimal("0.002"))),
        ],
    )


def test_envelope_round_trips_through_json():
    # Given a closed-won event with a multi-entity contract and usage terms
    envelope = EventEnvelope(
        event_id=event_id_for("salesforce", "04l5g000001"),
        type=EventType.OPPORTUNITY_CLOSED_WON,
        source="salesforce",
        source_event_id="04l5g000001",
        occurred_at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        correlation_id=correlation_id_for("contract", "salesforce", "0065g00000ABC"),
        business_key="0065g00000ABC",
        version="2",
        data=_contract(),
    )
    # When it is serialized and read back
    again = EventEnvelope.model_validate_json(envelope.model_dump_json())
    # Then nothing is lost, amounts stay exact
    assert again == envelope
    assert again.data.items[1].usage.overage_unit_price == Decimal("0.002")
    assert again.schema_version == "1.0"


def test_data_must_match_the_event_type():
    # Given an invoice payload on an opportunity event type
    with pytest.raises(ValidationError, match="carries contract data"):
        EventEnvelope(
            event_id="e", type=EventType.OPPORTUNITY_CLOSED_WON, source="stripe", source_event_id="evt_1",
            occurred_at=datetime.now(UTC), correlation_id="c", business_key="k",
            data=Invoice(invoice_id="in_1", customer_id="cus_1", status="paid", currency="USD", total=Decimal(1)),
        )


def test_event_id_is_deterministic_per_source_event():
    assert event_id_for("stripe", "evt_1") == event_id_for("stripe", "evt_1")
    assert event_id_for("stripe", "evt_1") != event_id_for("chargebee", "evt_1")


def test_correlation_id_is_safe_for_logs_and_names():
    assert correlation_id_for("contract", "salesforce", "a b/c") == "contract:salesforce:a-b-c"


def test_currency_must_be_iso_4217():
    with pytest.raises(ValidationError):
        Invoice(invoice_id="in_1", customer_id="c", status="open", currency="usd", total=Decimal(1))
