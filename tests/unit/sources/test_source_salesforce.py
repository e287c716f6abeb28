from decimal import Decimal

import pytest
from sources_support import creds, inbound, sample

from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

salesforce = get_source("salesforce")
ORG = "00D5g000004AbCdEAF"
SECRETS = {"current": "sf-token-current", "previous": "sf-token-previous", "organization_ids": [ORG]}
BASE = "https://hub.example/webhooks/salesforce"


def delivered(name: str, token: str = SECRETS["current"]):
    url = signing.endpoint_url("salesforce", BASE, SECRETS, token)
    headers, body = signing.sign("salesforce", sample(f"salesforce/{name}.xml"), SECRETS, url)
    return inbound(body, headers, url)


def normalized(name: str):
    return [salesforce.normalize(e) for e in salesforce.parse(inbound(sample(f"salesforce/{name}.xml"), {}))]


# --- verification -----------------------------------------------------------------------------------
def test_a_message_from_an_allowed_org_with_the_endpoint_token_is_accepted():
    # Given an outbound message to the endpoint URL carrying the token
    request = delivered("opportunity_closed_won")
    # When / Then it verifies, and the signer built the URL Salesforce admins configure
    assert request.url == f"{BASE}?token=sf-token-current"
    salesforce.verify(request, creds(**SECRETS))


def test_a_hand_built_request_is_accepted_and_an_18_character_org_matches_its_15_character_form():
    # Given the sample exactly as Salesforce sends it, and an allow list holding the 15-character org id
    request = inbound(sample("salesforce/opportunity_closed_won.xml"), {"SOAPAction": '""'}, f"{BASE}?token=abc")
    # When / Then
    salesforce.verify(request, creds(current="abc", organization_ids=ORG[:15]))


def test_a_wrong_or_missing_token_is_refused():
    request = delivered("opportunity_closed_won", token="guessed")
    with pytest.raises(AuthenticationFailed, match="token"):
        salesforce.verify(request, creds(**SECRETS))
    with pytest.raises(AuthenticationFailed, match="token"):
        salesforce.verify(inbound(request.body, {}, BASE), creds(**SECRETS))


def test_rotation_accepts_the_previous_token_and_refuses_a_retired_one():
    salesforce.verify(delivered("opportunity_closed_won", token="sf-token-previous"), creds(**SECRETS))
    with pytest.raises(AuthenticationFailed):
        salesforce.verify(delivered("opportunity_closed_won", token="sf-token-retired"), creds(**SECRETS))


def test_another_organization_is_refused_even_with_the_token():
    # Given a message from an org that is not on the allow list (a sandbox, say)
    url = f"{BASE}?token=sf-token-current"
    headers, body = signing.sign("salesforce", sample("salesforce/opportunity_closed_won.xml"), SECRETS, url,
                                 organization_id="00D000000000SBXAAA")
    # When / Then
    with pytest.raises(AuthenticationFailed, match="00D000000000SBXAAA is not allowed"):
        salesforce.verify(inbound(body, headers, url), creds(**SECRETS))


def test_a_tampered_organization_id_is_refused():
    request = delivered("opportunity_closed_won")
    tampered = inbound(request.body.replace(ORG.encode(), b"00D5g000009ZzZzEAF"), dict(request.headers), request.url)
    with pytest.raises(AuthenticationFailed):
        salesforce.verify(tampered, creds(**SECRETS))


def test_an_empty_allow_list_refuses_everything():
    with pytest.raises(AuthenticationFailed, match="no organization ids"):
        salesforce.verify(delivered("opportunity_closed_won"), creds(current="sf-token-current"))


def test_the_signer_refuses_a_url_without_the_token():
    with pytest.raises(ValueError, match="endpoint_url"):
        signing.sign("salesforce", b"<x/>", SECRETS, BASE)


# --- envelope -------------------------------------------------------------------------------------------
DOCTYPE = b"""<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol;</soapenv:Body>
</soapenv:Envelope>"""


@pytest.mark.parametrize(("body", "reason"), [
    (DOCTYPE, "DOCTYPE"),
    (b"<!doctype html><html/>", "DOCTYPE"),
    (b"{}", "not well-formed"),
    (b"<a><b></a>", "not well-formed"),
    (b"<Envelope/>", "not a SOAP envelope"),
    (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>', "no outbound"),
])
def test_bodies_that_are_not_an_outbound_message_are_bad_envelopes(body, reason):
    with pytest.raises(BadEnvelope, match=reason):
        salesforce.parse(inbound(body, {}))


def test_verify_refuses_a_doctype_before_looking_for_the_organization():
    with pytest.raises(BadEnvelope, match="DOCTYPE"):
        salesforce.verify(inbound(DOCTYPE, {}, f"{BASE}?token=sf-token-current"), creds(**SECRETS))


def test_each_notification_is_a_vendor_event_and_the_message_is_acked_in_soap():
    # Given a message with three notifications
    events = salesforce.parse(inbound(sample("salesforce/opportunity_batch.xml"), {}))
    # Then each is an event keyed by its Notification Id, and the answer is the SOAP Ack
    assert [e.vendor_event_id for e in events] == ["04l5g00000KmWs6AAF", "04l5g00000KmWt7AAF", "04l5g00000KmWu8AAF"]
    assert {e.vendor_type for e in events} == {"Opportunity"}
    content_type, body = salesforce.acknowledge(events)
    assert content_type.startswith("text/xml") and "<Ack>true</Ack>" in body and "notificationsResponse" in body


# --- normalization ----------------------------------------------------------------------------------------
def test_closed_won_opportunity_is_a_contract_with_legal_entities_lines_and_terms():
    # Given the closed-won sample
    [envelope] = normalized("opportunity_closed_won")
    contract = envelope.data
    # Then a finance user sees the deal as booked
    assert envelope.type == "crm.opportunity.closed_won"
    assert envelope.business_key == contract.contract_id == "0065g00000XyZ1AAA"
    assert envelope.correlation_id == "contract:salesforce:0065g00000XyZ1AAA" and envelope.version == "1"
    assert (contract.amount, contract.currency, contract.billing_frequency) == (Decimal(144000), "USD", "annual")
    assert (str(contract.term_start), str(contract.term_end), contract.term_months) == ("2024-06-01", "2025-05-31", 12)
    assert (contract.account.account_id, contract.account.name) == ("0015g00000AbCdEAAZ", "Acme Robotics Inc.")
    assert [(e.entity_id, e.currency, e.subsidiary) for e in contract.account.legal_entities] == [
        ("LE-US", "USD", "US01"), ("LE-DE", "EUR", "DE01")]
    assert [(i.sku, i.quantity, i.unit_price, i.legal_entity_id) for i in contract.items[:2]] == [
        ("PLATFORM-ENT", Decimal(100), Decimal(1200), "LE-US"), ("PLATFORM-ENT", Decimal(20), Decimal(1200), "LE-DE")]
    assert contract.items[2].usage.included_quantity == Decimal(10_000_000)
    assert contract.owner_email == "sam.ortiz@acme-saas.example" and contract.non_standard_terms is False


def test_an_amendment_shares_the_original_contract_key_with_a_higher_version():
    [envelope] = normalized("opportunity_amended")
    assert envelope.type == "crm.opportunity.amended"
    assert envelope.business_key == envelope.data.contract_id == "0065g00000XyZ1AAA" and envelope.version == "2"
    assert envelope.data.previous_contract_id == "0065g00000XyZ1AAA" and envelope.data.non_standard_terms is True
    assert envelope.data.reason.startswith("Expansion")


def test_a_renewal_and_a_closed_lost_opportunity():
    [renewed], [lost] = normalized("opportunity_renewed"), normalized("opportunity_closed_lost")
    assert renewed.type == "crm.opportunity.renewed" and renewed.data.billing_frequency == "quarterly"
    assert renewed.data.previous_contract_id == "0065g00000XyZ1AAA"
    assert lost.type == "crm.opportunity.closed_lost" and lost.data.reason == "Price"
    assert lost.data.account.name == "Globex Corporation"


def test_an_account_update():
    [envelope] = normalized("account_updated")
    account = envelope.data
    assert envelope.type == "crm.account.updated" and envelope.business_key == "0015g00000AbCdEAAZ"
    assert (account.domain, account.country, account.tax_id) == ("acme-robotics.example", "US", "94-1234567")
    assert account.external_ids == {"salesforce": "0015g00000AbCdEAAZ", "netsuite": "CUST-10042"}
    assert len(account.legal_entities) == 2


def test_in_a_batch_open_stages_are_ignored_and_a_won_deal_without_account_is_unmappable():
    won, negotiating, orphan = salesforce.parse(inbound(sample("salesforce/opportunity_batch.xml"), {}))
    assert salesforce.normalize(won).data.account.name == "Initech LLC"
    assert salesforce.normalize(negotiating) is None
    with pytest.raises(Unmappable, match="AccountId"):
        salesforce.normalize(orphan)


def test_line_items_that_are_not_json_are_unmappable():
    body = sample("salesforce/opportunity_closed_won.xml").replace(b"<sf:Line_Items__c>[", b"<sf:Line_Items__c>oops[")
    [event] = salesforce.parse(inbound(body, {}))
    with pytest.raises(Unmappable, match="Line_Items__c is not JSON"):
        salesforce.normalize(event)


def test_each_event_raw_is_a_message_of_its_own_that_parses_back_to_the_same_event():
    # Given a batch of three notifications
    events = salesforce.parse(inbound(sample("salesforce/opportunity_batch.xml"), {}))
    # When each stored raw body is parsed again (as a replay does)
    again = [salesforce.parse(inbound(e.raw, {})) for e in events]
    # Then it is a complete outbound message holding only that notification
    assert [[e.vendor_event_id for e in batch] for batch in again] == [[e.vendor_event_id] for e in events]
    assert [batch[0].payload for batch in again] == [e.payload for e in events]
