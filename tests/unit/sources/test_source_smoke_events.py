"""The test webhook `erphub smoke` sends to each source verifies, parses, and is not routed (recorded as ignored):
if a normalizer ever routes it, a smoke test would start business work, and this test says so first."""

from datetime import UTC, datetime

import pytest
from sources_support import inbound

from erphub.sources import get_source
from erphub.sources.inbound import SourceCredentials
from local.sandbox import signing
from local.webhooks import credentials_for
from tools import smoke

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("source", smoke.SOURCES)
def test_the_smoke_event_verifies_and_is_ignored(source):
    now = datetime.now(UTC)
    event = smoke.smoke_event(source, "0123456789abcdef", now)
    stored = credentials_for(source)
    url = signing.endpoint_url(source, f"https://abc.execute-api.eu-west-1.amazonaws.com/dev/webhooks/{source}", stored)
    headers, body = signing.sign(source, event.body, stored, url, now=now, **event.options)
    request = inbound(body, headers, url=url, received_at=now)
    implementation = get_source(source)
    implementation.verify(request, SourceCredentials.from_secret(stored))
    [vendor_event] = implementation.parse(request)
    assert vendor_event.vendor_event_id == event.vendor_event_id
    assert "smoke" in vendor_event.vendor_type.lower()
    assert implementation.normalize(vendor_event) is None
