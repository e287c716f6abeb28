"""Every signature scheme as the vendor sends it, over HTTP through the gateway (the handler rebuilds the
URL the vendor signed from Host, X-Forwarded-Proto and the request path)."""

import pytest
from tests import webhooks

pytestmark = pytest.mark.integration

SCHEMES = [
    ("stripe", "stripe/invoice.paid.json", {}),
    # during a secret roll Stripe sends one v1 per active secret
    ("stripe", "stripe/invoice.paid.json",
     {"secrets": ["whsec_unknown_new", "whsec_local_only_not_real_stripe_current"]}),
    ("hubspot", "hubspot/company.propertyChange.json", {"version": "v1"}),
    ("hubspot", "hubspot/company.propertyChange.json", {"version": "v2"}),
    ("hubspot", "hubspot/company.propertyChange.json", {"version": "v3"}),
    ("salesforce", "salesforce/account_updated.xml", {}),
    ("chargebee", "chargebee/subscription_created.json", {}),
    ("zuora", "zuora/SubscriptionCreated.json", {}),
    ("gainsight", "gainsight/onboarding_milestone_completed.json", {}),
]


@pytest.mark.parametrize(("source", "sample", "options"), SCHEMES,
                         ids=[f"{s[0]}-{s[2].get('version', 'multi-v1' if 'secrets' in s[2] else 'default')}"
                              for s in SCHEMES])
def test_a_correctly_signed_webhook_is_accepted(gateway, source, sample, options):
    response = webhooks.post(gateway, source, webhooks.sample(sample), **options)
    assert response.status_code in (200, 202), response.text
    if source != "salesforce":
        assert response.json()["status"] in ("accepted", "ignored")
    else:
        assert "<Ack>true</Ack>" in response.text


@pytest.mark.parametrize("source", ["hubspot", "salesforce", "zuora", "gainsight"])
def test_a_wrong_secret_is_refused_with_nothing_stored(gateway, inbox_items, source):
    sample = {"hubspot": "hubspot/company.propertyChange.json", "salesforce": "salesforce/account_updated.xml",
              "zuora": "zuora/SubscriptionCreated.json", "gainsight": "gainsight/renewal_risk_changed.json"}[source]
    before = len(inbox_items())
    response = webhooks.post(gateway, source, webhooks.sample(sample), secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "AuthenticationFailed"
    assert len(inbox_items()) == before
