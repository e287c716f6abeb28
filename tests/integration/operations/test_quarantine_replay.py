"""A quarantined webhook is listed with its reason and raw body, repaired (re-normalized after a mapping fix, or
corrected canonical fields), and replayed into the pipeline once, even when two operators replay it at once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from tests import webhooks

from erphub.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.integration

UNMAPPABLE = "hubspot/deal.closedwon_without_company.json"


@pytest.fixture(scope="module", autouse=True)
def held_activations(stack):
    """Activations are held on their queue, so a test sees exactly what the replay delivered."""
    stack.pause_consumers("ActivationQueue")
    yield
    stack.pause_consumers("ActivationQueue", paused=False)


def quarantine(stack) -> str:
    """Deliver a verified closed-won HubSpot deal with no company: quarantined; returns its inbox key."""
    body, _ = webhooks.fresh("hubspot", webhooks.sample(UNMAPPABLE))
    receipt = webhooks.post(stack.endpoints["gateway"], "hubspot", body, fresh_id=False).json()
    assert webhooks.mapped_item(stack, receipt["event_id"])["status"]["S"] == "quarantined"
    event = json.loads(body)[0]
    return f"hubspot#{event['portalId']}:{event['eventId']}"


def corrected_deal(deal_id: str):
    """The canonical closed-won contract a mapped HubSpot delivery gives, for this deal (what an operator types)."""
    from erphub.operations.quarantine import CorrectedEvent
    from erphub.sources.hubspot import source
    from erphub.sources.inbound import Headers, InboundRequest

    request = InboundRequest(method="POST", url="", headers=Headers({}), received_at=datetime.now(UTC),
                             body=webhooks.sample("hubspot/deal.closedwon.json"))
    envelope = next(e for e in map(source.normalize, source.parse(request)) if e is not None)
    data = {**json.loads(envelope.data.model_dump_json()), "contract_id": deal_id}
    return CorrectedEvent(type=str(envelope.type), business_key=deal_id, version=envelope.version, data=data)


def delivered(stack, event_id: str, settle: float = 1.5) -> list[dict]:
    """Activation queue messages of this event, once one arrived and `settle` seconds passed without another."""
    found: list[dict] = []
    stack.wait_until(lambda: found.extend(m for m in stack.receive_all("ActivationQueue")
                                          if m["detail"]["event_id"] == event_id) or found, timeout=20, interval=0.1)
    deadline = datetime.now(UTC).timestamp() + settle
    while datetime.now(UTC).timestamp() < deadline:
        found += [m for m in stack.receive_all("ActivationQueue", wait=0.2) if m["detail"]["event_id"] == event_id]
    return found


def test_a_quarantined_webhook_is_listed_with_its_reason_and_raw_body(operator):
    from erphub.operations import quarantine as ops

    # Given an unmappable but verified deal
    key = quarantine(operator)
    # When an operator lists the quarantine (page by page) and opens it
    listed, token = [], None
    while True:
        page = ops.list_quarantined(limit=2, next_token=token, source="hubspot")
        listed += page.items
        if not (token := page.next_token):
            break
    [item] = [i for i in listed if i.key == key]
    detail = ops.show(key)
    # Then it shows why, and the body exactly as HubSpot sent it
    assert "company" in item.reason.lower() and item.vendor_type == "deal.propertyChange"
    assert detail.status == "quarantined" and json.loads(detail.raw_body)[0]["eventId"] == int(key.split(":")[1])


def test_corrected_fields_are_validated_against_the_canonical_models(operator):
    from erphub.operations import quarantine as ops

    key = quarantine(operator)
    broken = corrected_deal("18213455123").model_copy(update={"data": {"kind": "contract", "contract_id": "x"}})
    with pytest.raises(ValidationFailed) as refused:
        ops.replay_corrected(key, broken, actor="ops@example.com")
    # the operator is told which fields, and nothing was replayed
    assert "data.contract" in refused.value.reason and ops.show(key).status == "quarantined"
    with pytest.raises(ValidationFailed):
        ops.replay_corrected(key, corrected_deal("18213455123"), actor="  ")


def test_two_concurrent_replays_put_the_event_on_the_bus_once(operator):
    from erphub.operations import quarantine as ops

    # Given a quarantined deal and its corrected canonical fields
    key = quarantine(operator)
    corrected = corrected_deal("18213455123")
    # When two operators replay it at the same moment
    barrier, outcomes = threading.Barrier(2), []

    def replay(actor: str) -> None:
        barrier.wait()
        try:
            outcomes.append(ops.replay_corrected(key, corrected, actor=actor))
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=replay, args=(a,)) for a in ("ana@example.com", "ben@example.com")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one replay happened and the other was told so
    [done] = [o for o in outcomes if not isinstance(o, Exception)]
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    # And the activation queue got the event once, with the webhook's own event id and the corrected contract
    [message] = delivered(operator, done.event_id)
    assert message["detail"]["business_key"] == "18213455123" and message["detail"]["source"] == "hubspot"
    assert ops.show(key).status == "published" and ops.show(key).replayed_by == done.replayed_by
    # And a third replay, later, does nothing
    with pytest.raises(Conflict):
        ops.replay_corrected(key, corrected, actor="ana@example.com")
    assert key not in [i.key for i in ops.list_quarantined(limit=100).items]


def test_after_a_mapping_fix_the_stored_body_is_normalized_again_and_replayed(operator, monkeypatch):
    from erphub.operations import quarantine as ops
    from erphub.sources import hubspot

    key = quarantine(operator)
    # Before the fix, re-normalizing changes nothing: still unmappable, still quarantined
    with pytest.raises(ValidationFailed, match="still unmappable"):
        ops.renormalize(key, actor="ops@example.com")
    assert ops.show(key).status == "quarantined"
    # When a fixed mapping is deployed (here: deals without a company association are billed to a default company)
    original = hubspot.HubSpotSource.normalize

    def fixed(self, event):
        payload = {**event.payload, hubspot.ASSOCIATED_COMPANIES: ["9812345601"]}
        return original(self, hubspot.VendorEvent(event.vendor_event_id, event.vendor_type, payload, event.raw))

    monkeypatch.setattr(hubspot.HubSpotSource, "normalize", fixed)
    result = ops.renormalize(key, actor="ops@example.com")
    # Then the event the fixed mapping makes is replayed once
    assert result.repair == "renormalized" and result.event_type == "crm.opportunity.closed_won"
    [message] = delivered(operator, result.event_id)
    assert message["detail"]["data"]["account"]["account_id"] == "9812345601"


@pytest.mark.parametrize("token", ["", "not base64!", "e30=", "eyJwayI6IDF9",
                                   "eyJwayI6ImEiLCJsb29rdXAiOiJiIiwicmVjZWl2ZWRfYXQiOiJjIiwieCI6ImQifQ=="])
def test_a_page_token_the_api_did_not_give_is_refused_as_such(operator, token):
    from erphub.operations import quarantine as ops

    if not token:  # an empty token is the first page
        assert ops.list_quarantined(limit=1).items is not None
        return
    with pytest.raises(ValidationFailed, match="page token"):
        ops.list_quarantined(limit=1, next_token=token)


@pytest.mark.parametrize("key", ["", "hubspot#no-such-event", "x" * 3000, "stripe#\udcff"])
def test_an_unknown_or_impossible_key_is_not_found(operator, key):
    from erphub.errors import NotFound
    from erphub.operations import quarantine as ops

    with pytest.raises(NotFound):
        ops.show(key)
