from decimal import Decimal

import pytest
from sources_support import creds, inbound, sample

from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

totango = get_source("totango")
SECRETS = {"current": "tt-token-current", "previous": "tt-token-previous"}
URL = "https://hub.example/webhooks/totango"


def normalized(name: str, body: bytes | None = None):
    [event] = totango.parse(inbound(body or sample(f"totango/{name}.json"), {}))
    return totango.normalize(event)


def test_the_token_header_is_checked_against_both_active_tokens():
    totango.verify(inbound(b"{}", {"X-Totango-Token": "tt-token-current"}, URL), creds(**SECRETS))
    headers, _ = signing.sign("totango", b"{}", SECRETS, URL, secret="tt-token-previous")
    totango.verify(inbound(b"{}", headers, URL), creds(**SECRETS))
    for headers in ({"X-Totango-Token": "tt-token-retired"}, {"X-Gainsight-Token": "tt-token-current"}, {}):
        with pytest.raises(AuthenticationFailed):
            totango.verify(inbound(b"{}", headers, URL), creds(**SECRETS))


@pytest.mark.parametrize("body", [b"nope", b"[]", b'{"eventType":"health_changed"}', b'{"account":{}}',
                                  b'{"eventType":["x"],"account":{}}'])
def test_bad_envelopes(body):
    with pytest.raises(BadEnvelope):
        totango.parse(inbound(body, {}))


def test_a_poor_health_is_a_high_renewal_risk_of_the_crm_account():
    envelope = normalized("health_changed")
    risk = envelope.data
    assert envelope.type == "success.renewal_risk.changed" and envelope.source == "totango"
    assert risk.risk_level == "high" and risk.health_score == Decimal(35) and risk.previous_health_score == 64
    assert risk.external_ids == {"totango": "0015g00000AbCdEAAZ", "salesforce": "0015g00000AbCdEAAZ"}
    assert envelope.correlation_id == "account:salesforce:0015g00000AbCdEAAZ"
    assert risk.reason == "Less than 10% license utilization"


@pytest.mark.parametrize(("health", "score", "level"), [("Average", None, "medium"), ("Good", None, "low"),
                                                         (None, 74, "medium"), (None, 49, "high"), (None, 80, "low")])
def test_totango_health_values_and_scores_map_to_risk_levels(health, score, level):
    body = (b'{"eventType":"health_changed","occurredAt":"2024-09-02T06:00:00Z","account":{"id":"a_1"},'
            + (b'"health":{"current":"%s"},' % health.encode() if health else b"")
            + (b'"score":%d,' % score if score is not None else b"") + b'"eventId":"e1"}')
    assert normalized("", body).data.risk_level == level


def test_a_cancellation_request_names_the_contract_and_a_hubspot_account_is_kept_as_such():
    envelope = normalized("cancellation_requested")
    assert envelope.type == "success.cancellation.requested" and envelope.data.contract_id == "0065g00000XyZ2AAA"
    body = sample("totango/cancellation_requested.json").replace(b'"salesforce"', b'"hubspot"')
    assert normalized("", body).data.external_ids["hubspot"] == "0015g00000AbCdEAAZ"


def test_no_health_and_no_score_is_unmappable_and_other_types_are_ignored():
    with pytest.raises(Unmappable):
        normalized("", b'{"eventType":"health_changed","occurredAt":"2024-09-02T06:00:00Z","account":{"id":"a"}}')
    assert normalized("", b'{"eventType":"nps_submitted","account":{"id":"a"}}') is None
