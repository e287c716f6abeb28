import json
from decimal import Decimal

import pytest
from sources_support import creds, inbound, sample

from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

gainsight = get_source("gainsight")
SECRETS = {"current": "gs-token-current", "previous": "gs-token-previous"}
URL = "https://hub.example/webhooks/gainsight"


def normalized(name: str):
    [event] = gainsight.parse(inbound(sample(f"gainsight/{name}.json"), {}))
    return gainsight.normalize(event)


def test_the_token_header_is_checked_against_both_active_tokens():
    # Given the header the custom connector sends, written here by hand
    gainsight.verify(inbound(b"{}", {"X-Gainsight-Token": "gs-token-current"}, URL), creds(**SECRETS))
    # And the signer's requests with the current and previous token
    headers, _ = signing.sign("gainsight", b"{}", SECRETS, URL, secret="gs-token-previous")
    gainsight.verify(inbound(b"{}", headers, URL), creds(**SECRETS))
    # Then a retired token or no header is refused
    for headers in ({"X-Gainsight-Token": "gs-token-retired"}, {}):
        with pytest.raises(AuthenticationFailed):
            gainsight.verify(inbound(b"{}", headers, URL), creds(**SECRETS))


@pytest.mark.parametrize("body", [b"nope", b"[]", b'{"eventType":"renewal_risk_changed"}', b'{"company":{}}'])
def test_bad_envelopes(body):
    with pytest.raises(BadEnvelope):
        gainsight.parse(inbound(body, {}))


def test_renewal_risk_changed_is_correlated_with_the_crm_account():
    envelope = normalized("renewal_risk_changed")
    risk = envelope.data
    assert envelope.type == "success.renewal_risk.changed"
    assert envelope.source_event_id == "1I00J1INQCQ6GQ3T2M-20240902T0600"
    assert envelope.business_key == risk.account_id == "1P02Q5ZC3XYZ9ABCDE"
    assert envelope.correlation_id == "account:salesforce:0015g00000AbCdEAAZ"
    assert (risk.risk_level, risk.health_score, risk.previous_health_score) == ("high", Decimal(42), Decimal(71))
    assert risk.external_ids == {"gainsight": "1P02Q5ZC3XYZ9ABCDE", "netsuite": "CUST-10042",
                                 "salesforce": "0015g00000AbCdEAAZ"}
    assert str(risk.renewal_date) == "2025-05-31"


def test_milestone_and_cancellation():
    milestone, cancellation = normalized("onboarding_milestone_completed"), normalized("cancellation_requested")
    assert milestone.type == "success.onboarding.milestone_completed"
    assert milestone.data.milestone.startswith("SSO configured")
    assert cancellation.type == "success.cancellation.requested"
    assert (cancellation.data.contract_id, cancellation.data.effective) == ("0065g00000XyZ1AAA", "at_period_end")


def test_without_risk_level_the_health_score_decides_and_without_either_it_is_unmappable():
    document = json.loads(sample("gainsight/renewal_risk_changed.json"))
    del document["riskLevel"]
    document["healthScore"] = 60
    [event] = gainsight.parse(inbound(json.dumps(document).encode(), {}))
    assert gainsight.normalize(event).data.risk_level == "medium"
    del document["healthScore"]
    [event] = gainsight.parse(inbound(json.dumps(document).encode(), {}))
    with pytest.raises(Unmappable, match="healthScore"):
        gainsight.normalize(event)


def test_without_an_event_id_a_retried_call_gets_the_same_id():
    document = json.loads(sample("gainsight/onboarding_milestone_completed.json"))
    del document["eventId"]
    body = json.dumps(document).encode()
    [first], [second] = gainsight.parse(inbound(body, {})), gainsight.parse(inbound(body, {}))
    assert first.vendor_event_id == second.vendor_event_id and first.vendor_event_id.startswith("sha256:")


def test_unrouted_types_are_ignored():
    assert normalized("nps_response") is None
