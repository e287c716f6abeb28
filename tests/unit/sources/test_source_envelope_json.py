"""EventEnvelope.to_json, what ingest stores and the publisher puts on the bus, is model_dump_json() to the byte
for every sample event of every source."""

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sources_support import inbound

from erphub.canonical import EventEnvelope
from erphub.errors import Unmappable
from erphub.sources import SOURCE_NAMES, get_source
from local.sandbox import signing
from local.webhooks import credentials_for

pytestmark = pytest.mark.unit

EVENTS = Path(__file__).resolve().parents[3] / "events"


def normalized(source: str) -> list[EventEnvelope]:
    """Each sample as its vendor sends it (signed, with the vendor's headers), parsed and normalized."""
    implementation, envelopes, now = get_source(source), [], datetime.now(UTC)
    stored = credentials_for(source)
    url = signing.endpoint_url(source, f"https://hub.example/dev/webhooks/{source}", stored)
    for path in sorted((EVENTS / source).iterdir()):
        headers, body = signing.sign(source, path.read_bytes(), stored, url, now=now)
        for event in implementation.parse(inbound(body, headers, url=url, received_at=now)):
            with contextlib.suppress(Unmappable):  # some samples are the quarantine's cases
                envelope = implementation.normalize(event)
                if envelope is not None:
                    envelopes.append(envelope)
    return envelopes


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_to_json_is_model_dump_json(source):
    # Given every routed sample event of the source, normalized
    envelopes = normalized(source)
    assert envelopes, f"no routed sample event for {source}"

    # When / Then each serializes to the same JSON both ways, and reads back as the same envelope
    for envelope in envelopes:
        assert envelope.to_json() == envelope.model_dump_json()
        assert EventEnvelope.model_validate_json(envelope.to_json()) == envelope
