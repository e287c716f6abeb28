"""Usage aggregation end to end on the local stack, with Stripe, Chargebee and Zuora as billing and NetSuite or
Dynamics 365 as the ERP: a monthly-billed deal with metered API calls is activated; 1,000 usage records (sent in
concurrent batches, some batches twice, plus one record whose period has closed) reach `POST /usage`; the schedule's
run after the cut-off reports the period's exact total to billing once (a Stripe meter event, a Chargebee usage, a
Zuora usage record) and books its overage in the ERP once, whatever runs again afterwards. Checked by what the
vendors hold."""

from __future__ import annotations

import json
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from matrix import MatrixDeal, activate, subscriptions
from matrix import Row as MatrixRow

from erphub.connectors.base import add_months
from erphub.store.usage import UsageStore, total_key

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROWS = [MatrixRow("salesforce", "stripe", "gainsight", "netsuite"),
        MatrixRow("salesforce", "chargebee", "gainsight", "netsuite"),
        MatrixRow("salesforce", "zuora", "gainsight", "netsuite"),
        MatrixRow("salesforce", "stripe", "gainsight", "dynamics")]
CUTOFF_HOURS = 792  # 33 days: last month's period is still open today, the month before it is closed
INCLUDED, OVERAGE_PRICE = 1000, "0.05"


@pytest.fixture(scope="module", params=ROWS, ids=[f"{r.billing}-{r.erp}" for r in ROWS])
def row(request):
    return request.param


@pytest.fixture(scope="module")
def stack_parameters(row):
    return {**row.parameters(), "UsageLateCutoffHours": str(CUTOFF_HOURS)}


def billing_subscription(hub: Any, row: MatrixRow, deal: MatrixDeal) -> dict[str, Any]:
    """The US entity's subscription in billing, with `id` the one usage records name (Zuora: its number)."""
    if row.billing != "zuora":
        return subscriptions(hub, row, deal)["LE-US"]
    [found] = [s for s in hub.records("zuora", "subscription") if s.get("ContractId__c") == deal.opportunity_id
               and s.get("LegalEntityId__c") == "LE-US"]
    return {**found, "id": found["subscriptionNumber"]}


def reported(hub: Any, row: MatrixRow, subscription: dict[str, Any]) -> list[tuple[Decimal, int]]:
    """(quantity, timestamp) of what billing was told about the subscription's metered API calls (Zuora: its usage
    date, noon UTC of the period's last day, as the timestamp of that day's last second)."""
    if row.billing == "zuora":
        return [(Decimal(str(u["Quantity"])), int(datetime.fromisoformat(u["StartDateTime"]).replace(
                    hour=0).timestamp()) + 86399)
                for u in hub.records("zuora", "usage") if u["SubscriptionNumber"] == subscription["id"]]
    if row.billing == "stripe":
        return [(Decimal(e["payload"]["value"]), e["timestamp"]) for e in hub.records("stripe", "meter_event")
                if e["payload"].get("stripe_customer_id") == subscription["customer"]
                and e["event_name"] == "api_calls"]
    return [(Decimal(u["quantity"]), u["usage_date"]) for u in hub.records("chargebee", "usage")
            if u["subscription_id"] == subscription["id"] and u["item_price_id"].startswith("API-CALLS-")]


def usage_deal_fields(term_start: date) -> dict[str, Any]:
    items = [{"sku": "PLATFORM-ENT", "name": "Platform Enterprise", "quantity": 10, "unit_price": "100.00",
              "legal_entity_id": "LE-US"},
             {"sku": "PLATFORM-ENT", "name": "Platform Enterprise", "quantity": 5, "unit_price": "100.00",
              "legal_entity_id": "LE-DE"},
             {"sku": "API-CALLS", "name": "API calls", "quantity": 1, "unit_price": "0", "legal_entity_id": "LE-US",
              "usage": {"metric": "api_calls", "unit": "call", "included_quantity": str(INCLUDED),
                        "overage_unit_price": OVERAGE_PRICE}}]
    return {"Billing_Frequency__c": "Monthly", "Term_Start__c": term_start.isoformat(),
            "Term_End__c": (add_months(term_start, 12) - timedelta(days=1)).isoformat(),
            "CloseDate": (term_start - timedelta(days=1)).isoformat(), "Amount": "18000.0", "Line_Items__c": items}


def post_usage(gateway: str, records: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"records": records}).encode()
    headers = {"Content-Type": "application/json", "x-api-key": "local-dev-api-key-tests-00000000000003"}
    request = urllib.request.Request(f"{gateway}/usage", data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the local gateway
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def report(hub: Any, at: datetime) -> dict[str, Any]:
    """The schedule's run at `at` (its scheduled event's time)."""
    return hub.stack.invoke("UsageReporterFunction", {"source": "aws.events", "detail-type": "Scheduled Event",
                                                      "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})


def _dynamics_customer(hub: Any, order: dict[str, Any]) -> str:
    """The account number an order's customer bind names (`/accounts(accountnumber='...')`, percent-encoded)."""
    bind = re.search(r"accountnumber='(.*)'\)$", str(order.get("customerid_account@odata.bind")))
    return unquote(bind.group(1)).replace("''", "'") if bind else ""


def overage_orders(hub: Any, row: MatrixRow, deal: MatrixDeal) -> list[dict[str, Any]]:
    """The deal's overage sales orders in the ERP, with NetSuite's shape of lines (item externalId, quantity,
    rate) and customer (entity externalId)."""
    if row.erp == "dynamics":
        orders = [o for o in hub.records("dynamics", "salesorders") if o.get("erphub_contractid") ==
                  deal.opportunity_id and str(o.get("name", "")).startswith("erphub usage")]
        lines = hub.records("dynamics", "salesorderdetails")
        return [{"item": {"items": [{"item": {"externalId": line["erphub_sku"]}, "quantity": line["quantity"],
                                     "rate": line["priceperunit"]} for line in lines
                                    if str(line.get("erphub_externalid")).rsplit("-", 1)[0] == o[
                                        "erphub_externalid"]]},
                 "entity": {"externalId": _dynamics_customer(hub, o)}} for o in orders]
    return [o for o in hub.records("netsuite", "salesOrder")
            if o.get("otherRefNum") == deal.opportunity_id and str(o.get("memo", "")).startswith("erphub usage")]


def test_usage_aggregates_exactly_reaches_billing_once_and_books_the_overage_once(hub, row):
    # Given a monthly subscription with 1,000 API calls included, that started three months ago
    today = datetime.now(UTC).date()
    term_start = add_months(today.replace(day=1), -3)
    period_start, period_end = add_months(term_start, 2), add_months(term_start, 3)
    deal = MatrixDeal("Usage", row.crm)
    execution = activate(hub, deal, **usage_deal_fields(term_start))
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subscription = billing_subscription(hub, row, deal)
    records = [{"id": f"{deal.n}-u{i}", "subscription_id": subscription["id"], "metric": "api_calls",
                "quantity": str(i % 7 + 1), "recorded_at": (datetime.combine(period_start, datetime.min.time(), UTC)
                                                             + timedelta(minutes=37 * i)).isoformat()}
               for i in range(1000)]
    expected = sum(Decimal(r["quantity"]) for r in records)
    late = {"id": f"{deal.n}-late", "subscription_id": subscription["id"], "metric": "api_calls", "quantity": "500",
            "recorded_at": f"{term_start.isoformat()}T12:00:00Z"}  # the first period: closed 33 days after its end

    # When the product sends them in batches of 100, four at a time, three batches twice, the late one among them
    batches = [records[i:i + 100] for i in range(0, 1000, 100)] + [records[0:100], records[450:550],
                                                                    [*records[900:1000], late]]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda batch: post_usage(hub.gateway, batch), batches))

    # Then every record is counted once, the duplicates are answered as such and the late one is refused
    assert all(status == 200 for status, _ in answers), answers
    assert sum(a["accepted"] for _, a in answers) == 1000
    assert sum(a["duplicate"] for _, a in answers) == 300
    refused = [r for _, a in answers for r in a["records"] if r["status"] == "refused"]
    assert [r["id"] for r in refused] == [late["id"]] and refused[0]["reason"].startswith("late")
    store = UsageStore(hub.stack.physical("UsageTable"), hub.stack.client("dynamodb"))
    key = total_key(row.billing, subscription["id"], "api_calls", period_start.isoformat())
    total = store.get(key["pk"], key["sk"])
    assert total is not None and total["quantity"] == expected and total["records"] == 1000
    assert store.get(f"LATE#product#{late['id']}", "LATE") is not None  # kept for an operator to see

    # When the schedule runs after the period's cut-off, and again, and again
    after_cutoff = datetime.combine(period_end, datetime.min.time(), UTC) + timedelta(hours=CUTOFF_HOURS + 1)
    first = report(hub, after_cutoff)
    again = [report(hub, after_cutoff + timedelta(hours=h)) for h in (1, 2)]

    # Then billing got the period's total once (Stripe: a meter event on the subscription's customer; Chargebee: a
    # usage on its metered item price; Zuora: a usage record on its usage charge), in the period's last second
    # (Zuora: on its last day)
    assert len(first["reported"]) == 1 and first["failed"] == [], first
    assert all(run["reported"] == [] and run["failed"] == [] for run in again), again
    last_second = int(datetime.combine(period_end, datetime.min.time(), UTC).timestamp()) - 1
    assert reported(hub, row, subscription) == [(expected, last_second)]
    # and the ERP has one overage order, for the calls beyond the included ones, at the overage price
    orders = overage_orders(hub, row, deal)
    assert len(orders) == 1, orders
    lines = orders[0]["item"]["items"]
    assert [(line["item"]["externalId"], Decimal(str(line["quantity"])), Decimal(str(line["rate"])))
            for line in lines] == [("API-CALLS", expected - INCLUDED, Decimal(OVERAGE_PRICE))]
    assert orders[0]["entity"]["externalId"] == f"{deal.account_id}:LE-US"

    # When a record of the reported period arrives afterwards, it is refused as late and changes nothing
    status, answer = post_usage(hub.gateway, [{**records[0], "id": f"{deal.n}-after", "quantity": "9"}])
    assert status == 200 and answer["refused"] == 1 and answer["records"][0]["reason"].startswith("late")
    assert store.get(key["pk"], key["sk"])["quantity"] == expected
    assert len(overage_orders(hub, row, deal)) == 1


def test_a_bad_batch_is_refused_whole_and_bad_records_one_by_one(hub, row):
    assert post_usage(hub.gateway, [])[0] == 400
    status, answer = post_usage(hub.gateway, [{"id": "x", "subscription_id": "sub_nope", "metric": "api_calls",
                                               "quantity": "1", "recorded_at": "2026-11-03T10:00:00Z"},
                                              {"id": "y", "quantity": "-1"}])
    assert status == 200 and answer["accepted"] == 0 and answer["refused"] == 2
    assert [r["reason"].split(":")[0] for r in answer["records"]] == ["unknown_subscription", "invalid"]


def test_a_billing_webhooks_usage_record_is_counted_once_through_the_bus(hub, row):
    from erphub.canonical import EventEnvelope, EventType, UsageRecord
    from erphub.canonical.envelope import event_id_for

    # Given an activated monthly subscription with metered API calls
    term_start = add_months(datetime.now(UTC).date().replace(day=1), -1)
    deal = MatrixDeal("UsageBus", row.crm)
    assert activate(hub, deal, **usage_deal_fields(term_start))["status"] == "SUCCEEDED"
    subscription = billing_subscription(hub, row, deal)
    # When billing's usage webhook (normalized as Zuora's UsageRecordCreated is) reaches the bus twice
    recorded_at = datetime.combine(term_start, datetime.min.time(), UTC) + timedelta(days=3)
    envelope = EventEnvelope(
        event_id=event_id_for("zuora", f"{deal.n}-n1"), type=EventType.USAGE_RECORDED, source="zuora",
        source_event_id=f"{deal.n}-n1", occurred_at=recorded_at, correlation_id=f"subscription:zuora:{deal.n}",
        business_key=deal.n, data=UsageRecord(record_id=f"{deal.n}-usage-1", subscription_id=subscription["id"],
                                              metric="api_calls", quantity=Decimal(1234), recorded_at=recorded_at))
    entry = {"Source": "erphub", "DetailType": "billing.usage.recorded", "Detail": envelope.model_dump_json(),
             "EventBusName": hub.stack.physical("EventBus")}
    events = hub.stack.client("events")
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    # Then the rule, the usage queue and the aggregator count it into its period once
    store = UsageStore(hub.stack.physical("UsageTable"), hub.stack.client("dynamodb"))
    key = total_key(row.billing, subscription["id"], "api_calls", term_start.isoformat())
    total = hub.stack.wait_until(lambda: store.get(key["pk"], key["sk"]), timeout=30)
    assert store.get(f"REC#zuora#{deal.n}-usage-1", "REC") is not None
    hub.stack.wait_until(lambda: hub.stack.queue_depth("UsageQueue") == 0, timeout=30)
    total = store.get(key["pk"], key["sk"])
    assert total["quantity"] == 1234 and total["records"] == 1
