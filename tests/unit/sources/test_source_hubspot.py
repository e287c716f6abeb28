import base64
import hashlib
import hmac
import json

import pytest
from sources_support import NOW, creds, inbound, sample

from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

hubspot = get_source("hubspot")
SECRETS = {"current": "hs-client-secret-current", "previous": "hs-client-secret-previous"}
URL = "https://hub.example/webhooks/hubspot?portal=62515"


def signed(body: bytes, version: str = "v3", now=NOW, url=URL, **options):
    headers, body = signing.sign("hubspot", body, SECRETS, url, now=now, version=version, **options)
    return inbound(body, headers, url)


# --- verification -----------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_each_signature_version_is_accepted(version):
    # Given a delivery signed with HubSpot signature version v1, v2 or v3
    request = signed(sample("hubspot/deal.closedwon.json"), version)
    # When / Then it is verified
    hubspot.verify(request, creds(**SECRETS))


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_a_tampered_body_is_refused_in_every_version(version):
    request = signed(sample("hubspot/deal.closedwon.json"), version)
    tampered = inbound(request.body.replace(b"closedwon", b"closedlost"), dict(request.headers), URL)
    with pytest.raises(AuthenticationFailed, match=f"{version} signature does not match"):
        hubspot.verify(tampered, creds(**SECRETS))


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_a_signature_for_another_url_is_refused(version):
    # Given a delivery signed for a different endpoint (v2 and v3 cover the URI)
    request = signed(sample("hubspot/deal.closedwon.json"), version, url="https://evil.example/webhooks/hubspot")
    moved = inbound(request.body, dict(request.headers), URL)
    with pytest.raises(AuthenticationFailed):
        hubspot.verify(moved, creds(**SECRETS))


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_wrong_secret_refused_and_previous_secret_accepted(version):
    body = sample("hubspot/deal.closedwon.json")
    hubspot.verify(signed(body, version, secret="hs-client-secret-previous"), creds(**SECRETS))
    with pytest.raises(AuthenticationFailed):
        hubspot.verify(signed(body, version, secret="hs-retired"), creds(**SECRETS))


def test_a_v3_timestamp_older_than_five_minutes_is_refused():
    # Given a v3 delivery signed 5 min 1 s before it arrives
    request = signed(sample("hubspot/deal.closedwon.json"), now=NOW.timestamp() - 301)
    # When / Then
    with pytest.raises(AuthenticationFailed, match="outside 5 minutes"):
        hubspot.verify(request, creds(**SECRETS))


def test_a_v3_signature_computed_independently_over_the_decoded_uri_is_accepted():
    # Given HubSpot's recipe done by hand: method + URI (with %3A, %2F ... decoded) + body + timestamp (ms)
    url = "https://hub.example/webhooks/hubspot?redirect=https%3A%2F%2Fapp.example%2Fx&tag=a%20b"
    decoded = "https://hub.example/webhooks/hubspot?redirect=https://app.example/x&tag=a%20b"
    body, timestamp = b'[{"eventId":1}]', "1717243200000"
    digest = hmac.new(b"hs-client-secret-current", f"POST{decoded}".encode() + body + timestamp.encode(),
                      hashlib.sha256).digest()
    headers = {"X-HubSpot-Signature-v3": base64.b64encode(digest).decode(), "X-HubSpot-Request-Timestamp": timestamp}
    # When it is verified against the URL as received
    hubspot.verify(inbound(body, headers, url), creds(**SECRETS))
    # Then it passes, and the signer produces the same value
    assert signing.sign("hubspot", body, SECRETS, url, now=NOW)[0]["X-HubSpot-Signature-v3"] == headers[
        "X-HubSpot-Signature-v3"]


def test_v1_and_v2_signatures_computed_independently_are_accepted():
    body = b'[{"eventId":1}]'
    v1 = hashlib.sha256(b"hs-client-secret-current" + body).hexdigest()
    v2 = hashlib.sha256(b"hs-client-secret-current" + b"POST" + URL.encode() + body).hexdigest()
    hubspot.verify(inbound(body, {"X-HubSpot-Signature-Version": "v1", "X-HubSpot-Signature": v1}, URL),
                   creds(**SECRETS))
    hubspot.verify(inbound(body, {"X-HubSpot-Signature-Version": "v2", "X-HubSpot-Signature": v2}, URL),
                   creds(**SECRETS))


def test_no_signature_at_all_is_refused():
    with pytest.raises(AuthenticationFailed, match="no X-HubSpot-Signature"):
        hubspot.verify(inbound(b"[]", {}, URL), creds(**SECRETS))


# --- envelope ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"nope", b"{}", b"[]", b"[1]", b'[{"eventId":1,"portalId":2}]'])
def test_a_body_that_is_not_an_array_of_events_is_a_bad_envelope(body):
    with pytest.raises(BadEnvelope):
        hubspot.parse(inbound(body, {}))


def test_each_event_of_a_delivery_is_its_own_vendor_event():
    events = hubspot.parse(inbound(sample("hubspot/deal.closedwon.json"), {}))
    assert [e.vendor_event_id for e in events] == ["62515:3816279340", "62515:3816279341"]
    assert [e.vendor_type for e in events] == ["deal.associationChange", "deal.propertyChange"]


# --- normalization ------------------------------------------------------------------------------------
def test_a_deal_moving_to_closed_won_is_a_closed_won_opportunity_with_its_company():
    # Given a delivery with the deal's company association and the stage change to closedwon
    association, stage = hubspot.parse(inbound(sample("hubspot/deal.closedwon.json"), {}))
    # When normalized
    ignored, envelope = hubspot.normalize(association), hubspot.normalize(stage)
    # Then the association itself is ignored and the deal is a closed-won contract for the company
    assert ignored is None
    assert envelope.type == "crm.opportunity.closed_won"
    assert envelope.data.contract_id == envelope.business_key == "18213454561"
    assert envelope.data.account.account_id == "9812345601"
    assert envelope.correlation_id == "contract:hubspot:18213454561"
    assert envelope.version == "1" and envelope.data.version == 1
    assert str(envelope.occurred_at) == "2024-06-01 00:00:00.480000+00:00"


def test_a_closed_won_deal_without_a_company_is_unmappable():
    [event] = hubspot.parse(inbound(sample("hubspot/deal.closedwon_without_company.json"), {}))
    with pytest.raises(Unmappable, match="no associated company"):
        hubspot.normalize(event)


def test_a_closed_lost_deal_needs_no_company():
    [event] = hubspot.parse(inbound(sample("hubspot/deal.closedlost.json"), {}))
    envelope = hubspot.normalize(event)
    assert envelope.type == "crm.opportunity.closed_lost" and envelope.data.contract_id == "18213454999"


def test_company_property_changes_are_account_updates():
    name, domain = (hubspot.normalize(e) for e in hubspot.parse(inbound(sample("hubspot/company.propertyChange.json"),
                                                                         {})))
    assert name.type == domain.type == "crm.account.updated"
    assert name.data.name == "Acme Robotics Inc." and domain.data.domain == "acme-robotics.example"
    assert name.business_key == "9812345601" and name.correlation_id == "account:hubspot:9812345601"


def test_other_stages_and_object_types_are_ignored():
    [contact] = hubspot.parse(inbound(sample("hubspot/contact.creation.json"), {}))
    document = json.loads(sample("hubspot/deal.closedlost.json"))
    document[0]["propertyValue"] = "contractsent"
    [stage] = hubspot.parse(inbound(json.dumps(document).encode(), {}))
    assert hubspot.normalize(contact) is None and hubspot.normalize(stage) is None


def test_each_event_raw_parses_back_to_the_same_event_with_its_company():
    # Given the closed-won delivery, whose company comes from a sibling association event
    events = hubspot.parse(inbound(sample("hubspot/deal.closedwon.json"), {}))
    # When the deal's stored raw body is parsed again on its own (as a replay does)
    [again] = hubspot.parse(inbound(events[1].raw, {}))
    # Then it is the same event and still maps to the company
    assert again.vendor_event_id == events[1].vendor_event_id and again.payload == events[1].payload
    assert hubspot.normalize(again).data.account.account_id == "9812345601"


@pytest.mark.parametrize(("stage", "kind"), [("amendmentwon", "crm.opportunity.amended"),
                                             ("renewalwon", "crm.opportunity.renewed")])
def test_a_deal_won_in_the_amendment_or_renewal_pipeline_starts_that_workflow(stage, kind):
    # Given a deal of the amendment (renewal) pipeline reaching its won stage, with no company in the delivery
    body = json.loads(sample("hubspot/deal.closedwon.json"))[1:]
    body[0]["propertyValue"] = stage
    [event] = hubspot.parse(inbound(json.dumps(body).encode(), {}))
    # Then it is that kind of event, keyed by the deal: the workflow reads the contract it changes from HubSpot
    envelope = hubspot.normalize(event)
    assert (envelope.type, envelope.business_key, envelope.version) == (kind, str(body[0]["objectId"]), "1")
    assert envelope.data.account.account_id == ""
