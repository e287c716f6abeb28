"""Whatever the bytes, every source answers with a typed outcome, and a refused request writes nothing.

Property-based (hypothesis): for each of the six sources, requests that are random bytes, random JSON or
XML, real samples with fields replaced by values of any type and size, with random or valid credentials,
go through ingest's verify -> parse -> normalize -> store path (service.receive with the inbox, the S3
claim check and the secret replaced by recorders). The only exceptions allowed out are the typed refusals
(IngestRejected: 400/401/404/413); when one is raised nothing was stored; when the request is accepted,
every item is within DynamoDB's limits and every bus entry within EventBridge's.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_support import NOW, inbound, sample

from erphub import publishing
from erphub.errors import IngestRejected
from erphub.ingest import mapping, service
from erphub.sources.inbound import SourceCredentials
from erphub.store import inbox, raw_bodies
from local.sandbox import signing
from local.webhooks import credentials_for

pytestmark = pytest.mark.unit

SOURCES = ("stripe", "hubspot", "salesforce", "chargebee", "zuora", "gainsight")
SAMPLES = {
    "stripe": ["stripe/invoice.paid.json", "stripe/customer.subscription.created.json", "stripe/customer.created.json"],
    "hubspot": ["hubspot/deal.closedwon.json", "hubspot/company.propertyChange.json"],
    "salesforce": ["salesforce/opportunity_closed_won.xml", "salesforce/opportunity_batch.xml",
                   "salesforce/account_updated.xml"],
    "chargebee": ["chargebee/subscription_created.json", "chargebee/payment_succeeded.json"],
    "zuora": ["zuora/SubscriptionCreated.json", "zuora/InvoicePosted.json"],
    "gainsight": ["gainsight/renewal_risk_changed.json", "gainsight/cancellation_requested.json"],
}
URL = "https://hub.example/webhooks/{source}"
# the recorder is cleared for every example (assert_typed_outcome), so a function-scoped fixture is safe
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])

# JSON values of every type, size and range a broken vendor could send (lone surrogates included)
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**45), max_value=10**45),
                    st.floats(allow_nan=False, allow_infinity=False), any_text,
                    st.sampled_from(["", "0", "NaN", "1e999999", "9999-12-31T23:59:59+14:00", "²", "١٢٣",
                                     "2024-02-30", "x" * 5000, "253402300800000"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(any_text, inner, max_size=4), max_leaves=12)


class Recorder:
    """Stands in for the inbox and S3: records what would be written."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.objects: list[str] = []
        self.bodies: dict[str, bytes] = {}

    def store_new(self, items: list[inbox.InboxItem]) -> set[str]:
        self.items += [item.to_item(14) for item in items]
        return set()

    def put(self, source: str, event_id: str, received_at: Any, body: bytes, *_: Any) -> str:
        self.objects.append(f"raw/{source}/{event_id}")
        self.bodies[f"s3://bucket/raw/{source}/{event_id}"] = body
        return f"s3://bucket/raw/{source}/{event_id}"

    def read(self, uri: str) -> bytes:
        return self.bodies[uri]

    def put_event(self, source: str, event_id: str, received_at: Any, event_json: str) -> dict[str, Any]:
        self.objects.append(f"events/{source}/{event_id}")
        return {"uri": "s3://bucket/raw/events", "bytes": len(event_json), "sha256": "0" * 64}


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    recorded = Recorder()
    monkeypatch.setattr(service.inbox, "store_new", recorded.store_new)
    monkeypatch.setattr(service.raw_bodies, "put", recorded.put)
    monkeypatch.setattr(service.raw_bodies, "put_event", recorded.put_event)
    monkeypatch.setattr(service.raw_bodies, "read", recorded.read)
    monkeypatch.setattr(service, "source_credentials", lambda source: SourceCredentials.from_secret(
        credentials_for(source)))
    return recorded


def signed(source: str, body: bytes, **options: Any) -> Any:
    secret = credentials_for(source)
    url = signing.endpoint_url(source, URL.format(source=source), secret)
    headers, body = signing.sign(source, body, secret, url, now=NOW, **options)
    return inbound(body, headers, url)


def assert_typed_outcome(source: str, request: Any, recorder: Recorder) -> None:
    recorder.items.clear()
    recorder.objects.clear()
    try:
        delivery = service.receive(source, request)
    except IngestRejected:
        # Then nothing was written: no inbox item, no S3 object
        assert recorder.items == [] and recorder.objects == []
        return
    assert delivery.receipts and len(recorder.items) == len(delivery.receipts)
    for item in recorder.items:
        assert inbox.item_bytes(item) <= inbox.MAX_ITEM_BYTES
        assert len(item["pk"]["S"].encode("utf-8", "surrogatepass")) <= inbox.MAX_KEY_BYTES
        json.dumps(item, default=str).encode()  # every string is encodable: DynamoDB would take it
        # And the publisher's mapping of it is an outcome, never a crash: an accepted event fits the bus's entry and,
        # kept beside the raw body, the item's 400 KB
        mapped = mapping.map_received(item)
        assert mapped.status in (inbox.ACCEPTED, inbox.QUARANTINED, inbox.IGNORED)
        if mapped.status == inbox.ACCEPTED:
            assert publishing.entry_bytes(mapped.event_type, mapped.event_json) <= raw_bodies.MAX_ENTRY_BYTES
            published = inbox.published_item(item, mapped.kept()) | {"published_at": {"S": NOW.isoformat()}}
            assert inbox.item_bytes(published) <= inbox.MAX_ITEM_BYTES


def mutate_json(body: bytes, data: Any) -> bytes:
    document = json.loads(body)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = data.draw(st.sampled_from(paths))
        value = data.draw(json_values)
        if not path:
            document = value
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
    ascii_only = data.draw(st.booleans())
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Any:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:10]):
            yield from _paths(item, (*prefix, index))


_FIELD = re.compile(rb"(<sf:[A-Za-z_]+>)([^<]*)(</sf:[A-Za-z_]+>)")
xml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60)


def mutate_xml(body: bytes, data: Any) -> bytes:
    for _ in range(data.draw(st.integers(1, 3))):
        fields = list(_FIELD.finditer(body))
        match = data.draw(st.sampled_from(fields))
        text = data.draw(st.one_of(xml_text, json_values.map(json.dumps)))
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "surrogatepass")
        body = body[:match.start(2)] + escaped + body[match.end(2):]
    return body


@pytest.mark.parametrize("source", SOURCES)
@PROPERTY
@given(body=st.binary(max_size=3000))
def test_random_bytes_signed_validly_get_a_typed_refusal(source, body, recorder):
    assert_typed_outcome(source, signed(source, body), recorder)


@pytest.mark.parametrize("source", SOURCES)
@PROPERTY
@given(document=json_values, ascii_only=st.booleans())
def test_random_json_signed_validly_gets_a_typed_outcome(source, document, ascii_only, recorder):
    body = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert_typed_outcome(source, signed(source, body), recorder)


@pytest.mark.parametrize("source", SOURCES)
@PROPERTY
@given(data=st.data())
def test_samples_with_bizarre_fields_get_a_typed_outcome(source, data, recorder):
    # Given a real sample with fields replaced by values of the wrong type, size or range, validly signed
    body = sample(data.draw(st.sampled_from(SAMPLES[source])))
    body = mutate_xml(body, data) if source == "salesforce" else mutate_json(body, data)
    options = {"notification_id": data.draw(st.text(min_size=1, max_size=80).filter(str.strip))} \
        if source == "zuora" else {}
    # Then the request is refused with a typed error, or accepted with every item within AWS's limits
    assert_typed_outcome(source, signed(source, body, **options), recorder)


# timestamps as a forger writes them: any digits of any script, any length, signs, spaces, exponents
odd_timestamps = st.one_of(st.integers(min_value=-(10**30), max_value=10**30).map(str),
                           st.integers(min_value=20, max_value=5000).map(lambda n: "9" * n),
                           st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=30),
                           st.sampled_from([" 1717200000", "1e9", "0x10", "-0", ""]))
header_text = st.text(st.characters(max_codepoint=0x10FFFF), max_size=300)
basic = st.builds(lambda text: {"Authorization": "Basic " + text}, st.one_of(header_text, odd_timestamps))
FORGED_HEADERS = {
    "stripe": st.builds(lambda t, sig: {"Stripe-Signature": f"t={t},v1={sig}"}, odd_timestamps, header_text),
    "hubspot": st.one_of(
        st.builds(lambda t, sig: {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": t},
                  odd_timestamps, header_text),
        st.builds(lambda v, sig: {"X-HubSpot-Signature-Version": v, "X-HubSpot-Signature": sig},
                  st.sampled_from(["v1", "v2", "V2", "v4", ""]), header_text)),
    "salesforce": st.just({}),
    "chargebee": basic,
    "zuora": st.one_of(basic, st.builds(lambda sig: {"X-Zuora-Signature": sig}, header_text)),
    "gainsight": st.builds(lambda token: {"X-Gainsight-Token": token}, header_text),
}


@pytest.mark.parametrize("source", SOURCES)
@PROPERTY
@given(data=st.data(), query=st.one_of(st.text(max_size=60), odd_timestamps.map(lambda t: f"token={t}")))
def test_forged_credentials_get_a_typed_refusal_and_write_nothing(source, data, query, recorder):
    # Given a real sample with credentials made up (an attacker's headers and query string)
    headers = data.draw(st.one_of(FORGED_HEADERS[source], st.dictionaries(header_text, header_text, max_size=3)))
    body = sample(SAMPLES[source][0])
    request = inbound(body, {**headers, "Zuora-Notification-Id": "n-1"}, URL.format(source=source) + "?" + query)
    assert_typed_outcome(source, request, recorder)


def test_the_recorder_sees_an_accepted_request(recorder):
    # The property above would pass vacuously if nothing were ever accepted: a valid request is stored
    request = signed("stripe", sample("stripe/invoice.paid.json"))
    assert service.receive("stripe", request).receipts[0].status == "accepted"
    assert len(recorder.items) == 1

