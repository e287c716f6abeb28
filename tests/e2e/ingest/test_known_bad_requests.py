"""The known-bad requests of issue 11, kept as regressions over HTTP into the local stack.

Each once answered 5xx (from the ingest function or the local gateway) or broke the error contract. Each
must now get its typed answer - {"error", "message"} from the function, API Gateway's own {"message"} for
the gateway's limits - and a refused request must leave nothing in the inbox.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests
from tests import webhooks

pytestmark = pytest.mark.e2e


def post(gateway: str, source: str, body: bytes, *, headers: dict[str, str] | None = None,
         **options) -> requests.Response:
    url, signed_headers, body = webhooks.signed_request(source, f"{gateway}/webhooks/{source}", body, **options)
    return requests.post(url, data=body, headers={**signed_headers, **(headers or {})}, timeout=30)


def refused(response: requests.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["error"] == error and isinstance(body["message"], str) and body["message"]


def stripe_event(**fields) -> bytes:
    document = json.loads(webhooks.sample("stripe/invoice.paid.json"))
    document.update(id=f"evt_{uuid.uuid4().hex}", **fields)
    return json.dumps(document).encode()


DEEP_JSON = b"[" * 10_000 + b"]" * 10_000
BIG_INT = b'{"id": "evt_big", "object": "event", "created": ' + b"9" * 5000 + b"}"
SURROGATE = b'{"id": "evt_\\ud800", "object": "event", "type": "invoice.paid", "data": {"object": {}}}'
BAD_JSON = [("stripe", DEEP_JSON), ("hubspot", DEEP_JSON), ("chargebee", DEEP_JSON), ("zuora", DEEP_JSON),
            ("gainsight", DEEP_JSON), ("stripe", BIG_INT), ("gainsight", BIG_INT), ("stripe", SURROGATE),
            ("hubspot", b'[{"eventId": "\\udfff", "portalId": 1, "subscriptionType": "deal.creation"}]')]


@pytest.mark.parametrize(("source", "body"), BAD_JSON, ids=[f"{s}-{i}" for i, (s, _) in enumerate(BAD_JSON)])
def test_hostile_json_is_a_400_and_writes_nothing(gateway, inbox_event_ids, source, body):
    before = inbox_event_ids()
    refused(post(gateway, source, body), 400, "BadEnvelope")
    assert inbox_event_ids() == before


@pytest.mark.parametrize("timestamp", ["\u0661\u0667\u0661\u0667" * 2 + "00", "9" * 400, "\u00b2"])
def test_odd_signature_timestamps_are_a_401(gateway, inbox_event_ids, timestamp):
    before = inbox_event_ids()
    # Given validly computed signatures whose timestamp field is not ASCII digits or is 400 digits long
    url, headers, body = webhooks.signed_request("stripe", f"{gateway}/webhooks/stripe", stripe_event())
    headers["Stripe-Signature"] = re.sub(r"t=\d+", f"t={timestamp}", headers["Stripe-Signature"])
    stripe = requests.post(url, data=body, headers={k: v.encode().decode("latin-1") for k, v in headers.items()},
                           timeout=30)
    url, headers, body = webhooks.signed_request("hubspot", f"{gateway}/webhooks/hubspot",
                                                 webhooks.sample("hubspot/deal.closedwon.json"))
    headers["X-HubSpot-Request-Timestamp"] = timestamp.encode().decode("latin-1")
    hubspot = requests.post(url, data=body, headers=headers, timeout=30)
    # Then both are refused as unauthenticated
    refused(stripe, 401, "AuthenticationFailed")
    refused(hubspot, 401, "AuthenticationFailed")
    assert inbox_event_ids() == before


def test_non_ascii_basic_auth_is_a_401(gateway):
    url, headers, body = webhooks.signed_request("chargebee", f"{gateway}/webhooks/chargebee",
                                                 webhooks.sample("chargebee/invoice_generated.json"))
    headers["Authorization"] = "Basic \u0661\u0667\u0661\u0667".encode().decode("latin-1")
    refused(requests.post(url, data=body, headers=headers, timeout=30), 401, "AuthenticationFailed")


@pytest.mark.parametrize("event", [
    {"eventId": [1], "portalId": 1, "subscriptionType": "deal.creation"},
    {"eventId": 1, "portalId": {"a": 1}, "subscriptionType": "deal.creation"},
    {"eventId": 1, "portalId": 1, "subscriptionType": ["deal.creation"]},
    {"eventId": 1, "portalId": 1, "subscriptionType": "deal.associationChange", "fromObjectId": [1],
     "associationType": "DEAL_TO_COMPANY"},
])
def test_hubspot_fields_of_the_wrong_type_are_a_400(gateway, inbox_event_ids, event):
    before = inbox_event_ids()
    refused(post(gateway, "hubspot", json.dumps([event]).encode()), 400, "BadEnvelope")
    assert inbox_event_ids() == before


@pytest.mark.parametrize("created", [10**30, -(10**20), "9" * 400, 1e300])
def test_out_of_range_times_in_a_signed_event_are_quarantined_not_a_5xx(stack, gateway, created):
    # Given a validly signed Stripe event whose time cannot be a date (OverflowError/OSError in datetime)
    response = post(gateway, "stripe", stripe_event(created=created))
    # Then it is accepted, and kept for repair once mapped
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    assert webhooks.mapped_item(stack, response.json()["event_id"])["status"]["S"] == "quarantined"


SALESFORCE_DEEP = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    '<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId>'
    + "<a>" * 10_000 + "</a>" * 10_000 + "</notifications></soapenv:Body></soapenv:Envelope>")


def test_salesforce_xml_nested_10000_deep_is_a_400(gateway, inbox_event_ids):
    before = inbox_event_ids()
    refused(post(gateway, "salesforce", SALESFORCE_DEEP.format(org="00D000000000LOCAL").encode()), 400, "BadEnvelope")
    assert inbox_event_ids() == before


def test_salesforce_from_another_org_is_refused_before_the_rest_is_parsed(gateway):
    # the organization comes first; the 10,000 levels after it are never read
    body = SALESFORCE_DEEP.format(org="00D000000000OTHER").encode()
    refused(post(gateway, "salesforce", body, organization_id="00D000000000OTHER"), 401, "AuthenticationFailed")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_an_entity_bomb_in_utf16_is_a_400(gateway, inbox_event_ids, encoding):
    before = inbox_event_ids()
    xml = webhooks.sample("salesforce/opportunity_closed_won.xml").decode()
    bomb = f'<!DOCTYPE e [<!ENTITY a "{"a" * 40}"><!ENTITY b "{"&a;" * 40}">]>'
    xml = xml.replace('<?xml version="1.0" encoding="UTF-8"?>', f'<?xml version="1.0" encoding="{encoding}"?>{bomb}')
    xml = xml.replace("<sf:Name>Acme Robotics - Platform Enterprise</sf:Name>", "<sf:Name>&b;</sf:Name>")
    xml = xml.replace("00D5g000004AbCdEAF", "00D000000000LOCAL")
    refused(post(gateway, "salesforce", xml.encode(encoding)), 400, "BadEnvelope")
    assert inbox_event_ids() == before


def test_420_kb_of_headers_is_api_gateways_413(gateway, inbox_event_ids):
    before = inbox_event_ids()
    flood = {f"X-Flood-{i}": "f" * 4000 for i in range(105)}
    response = post(gateway, "stripe", stripe_event(), headers=flood)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"} and response.headers["x-amzn-ErrorType"]
    assert inbox_event_ids() == before


@pytest.mark.parametrize("size", [10_241, 60_000])
def test_headers_over_10240_bytes_are_api_gateways_413(gateway, size):
    response = post(gateway, "stripe", stripe_event(), headers={"X-Padding": "p" * size})
    assert response.status_code == 413 and response.json() == {"message": "Request Too Long"}


def test_headers_under_the_limit_are_accepted_and_archived_bounded(stack, gateway):
    # Given 9 KB of extra headers (within API Gateway's 10240 bytes)
    body = stripe_event()
    response = post(gateway, "stripe", body, headers={"X-Padding": "p" * 7000, "User-Agent": "u" * 2000})
    assert response.status_code == 202
    # Then the inbox keeps only the headers a replay needs, each capped
    key = f"stripe#{json.loads(body)['id']}"
    item = stack.client("dynamodb").get_item(TableName=stack.physical("InboxTable"), Key={"pk": {"S": key}},
                                             ConsistentRead=True)["Item"]
    headers = item["headers"]["M"]
    assert "x-padding" not in headers and len(headers["user-agent"]["S"]) == 512
    assert "stripe-signature" in headers


def test_a_body_over_10_mb_is_api_gateways_413(gateway):
    response = requests.post(f"{gateway}/webhooks/stripe", data=b" " * (10 * 1024 * 1024 + 1), timeout=60)
    assert response.status_code == 413 and response.json() == {"message": "Request Too Long"}


@pytest.mark.parametrize("source", ["stripe", "hubspot", "chargebee", "gainsight", "zuora"])
def test_a_vendor_id_over_dynamodbs_key_limit_is_a_400(gateway, inbox_event_ids, source):
    before = inbox_event_ids()
    long_id = "x" * 2100
    body, options = webhooks.fresh(source, webhooks.sample({
        "stripe": "stripe/invoice.paid.json", "hubspot": "hubspot/deal.closedwon.json",
        "chargebee": "chargebee/invoice_generated.json", "gainsight": "gainsight/renewal_risk_changed.json",
        "zuora": "zuora/PaymentProcessed.json"}[source]))
    document = json.loads(body)
    if source == "hubspot":
        document[0]["eventId"] = long_id
    elif source == "gainsight":
        document["eventId"] = long_id
    elif source != "zuora":
        document["id"] = long_id
    options = {"notification_id": long_id} if source == "zuora" else options
    refused(post(gateway, source, json.dumps(document).encode(), **options), 400, "BadEnvelope")
    assert inbox_event_ids() == before


def hubspot_batch(size: int) -> bytes:
    base = uuid.uuid4().int % 10**12
    return json.dumps([{"eventId": base + i, "portalId": 62515, "subscriptionType": "contact.creation",
                        "objectId": i, "occurredAt": 1717200000000} for i in range(size)]).encode()


def test_a_batch_of_101_events_is_a_413(gateway, inbox_event_ids):
    before = inbox_event_ids()
    refused(post(gateway, "hubspot", hubspot_batch(101)), 413, "PayloadTooLarge")
    assert inbox_event_ids() == before


def test_a_batch_of_100_events_is_stored_whole(stack, gateway, inbox_event_ids):
    before = inbox_event_ids()
    response = post(gateway, "hubspot", hubspot_batch(100))
    assert response.status_code == 202
    receipts = response.json()["events"]
    assert len(receipts) == 100 and {r["status"] for r in receipts} == {"accepted"}
    assert inbox_event_ids() - before == {r["event_id"] for r in receipts}
    mapped = webhooks.mapped_items(stack, {r["event_id"] for r in receipts})
    assert {i["status"]["S"] for i in mapped.values()} == {"ignored"}
