"""Verified but unmappable → accepted and stored, then quarantined by the publisher's mapping, kept for repair (no
expiry), not published. Event types the hub does not route → accepted, then `ignored`, stored with the dedup TTL."""

import pytest
from tests import webhooks

pytestmark = pytest.mark.integration


def test_an_unmappable_deal_is_quarantined_and_kept(stack, gateway):
    # Given a closed-won HubSpot deal with no company to bill (verified, but not mappable)
    body, _ = webhooks.fresh("hubspot", webhooks.sample("hubspot/deal.closedwon_without_company.json"))
    # When HubSpot delivers it
    response = webhooks.post(gateway, "hubspot", body, fresh_id=False)
    # Then it is accepted for safekeeping, and quarantined when the publisher maps it
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    # And the inbox holds it with the reason and the raw body, with no expiry and nothing to publish
    item = webhooks.mapped_item(stack, response.json()["event_id"])
    assert item["status"]["S"] == "quarantined"
    assert item["reason"]["S"]
    assert item["raw_body"]["B"]
    assert "expires_at" not in item and "unpublished" not in item


def test_an_unrouted_event_type_is_ignored_but_recorded(stack, gateway):
    response = webhooks.post(gateway, "gainsight", webhooks.sample("gainsight/nps_response.json"))
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"
    item = webhooks.mapped_item(stack, response.json()["event_id"])
    assert item["status"]["S"] == "ignored" and "unpublished" not in item and "event" not in item
    assert int(item["expires_at"]["N"]) > 0


def test_secrets_in_headers_are_not_archived(stack, gateway, inbox_items):
    response = webhooks.post(gateway, "chargebee", webhooks.sample("chargebee/invoice_generated.json"))
    item = next(i for i in inbox_items() if i["event_id"]["S"] == response.json()["event_id"])
    assert "authorization" not in item["headers"]["M"]
    assert "content-type" in item["headers"]["M"]
