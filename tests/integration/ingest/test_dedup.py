"""Duplicates (the same vendor event id) are answered 2xx and do nothing: one event reaches the bus."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from tests import webhooks

pytestmark = pytest.mark.integration


def _key_count(inbox_items, key: str) -> int:
    return sum(1 for item in inbox_items() if item["pk"]["S"] == key)


def test_the_same_webhook_three_times_gives_one_event(stack, gateway):
    # Given one vendor event, signed once
    body, _ = webhooks.fresh("stripe", webhooks.sample("stripe/invoice.paid.json"))
    url, headers, body = webhooks.signed_request("stripe", f"{gateway}/webhooks/stripe", body)
    # When the vendor delivers it three times
    answers = [requests.post(url, data=body, headers=headers, timeout=10).json() for _ in range(3)]
    # Then the first is accepted, the others are duplicates of the same event
    assert [a["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    assert len({a["event_id"] for a in answers}) == 1
    # And exactly one event reaches the ERP posting queue
    arrived = stack.receive_all("ErpPostingQueue", wait=3, count=2)
    assert [m["detail"]["event_id"] for m in arrived].count(answers[0]["event_id"]) == 1


def test_concurrent_duplicates_give_one_event(stack, gateway):
    # Given one HubSpot delivery sent by three workers at the same moment
    body, _ = webhooks.fresh("gainsight", webhooks.sample("gainsight/renewal_risk_changed.json"))
    url, headers, body = webhooks.signed_request("gainsight", f"{gateway}/webhooks/gainsight", body)
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: requests.post(url, data=body, headers=headers, timeout=10).json(),
                                range(3)))
    # Then exactly one was accepted, and one event is on the renewal-risk queue
    assert sorted(a["status"] for a in answers) == ["accepted", "duplicate", "duplicate"]
    arrived = stack.receive_all("RenewalRiskQueue", wait=3, count=2)
    assert [m["detail"]["event_id"] for m in arrived].count(answers[0]["event_id"]) == 1


def test_zuora_dedups_on_the_notification_id(stack, gateway, inbox_items):
    body = webhooks.sample("zuora/PaymentProcessed.json")
    first = webhooks.post(gateway, "zuora", body, fresh_id=False, notification_id="2c92c0f8-dedup-test")
    again = webhooks.post(gateway, "zuora", body, fresh_id=False, notification_id="2c92c0f8-dedup-test")
    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    assert _key_count(inbox_items, "zuora#2c92c0f8-dedup-test") == 1
