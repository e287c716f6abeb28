"""The ack path of every source (verify, parse, acknowledge) imports no pydantic and no canonical model: the webhook
function's cold start pays for neither. Only normalize, run later by the publisher, imports them."""

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from erphub.sources import SOURCE_NAMES
from local.webhooks import credentials_for, signed_request

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("pydantic", "pydantic_core", "erphub.canonical")  # and every module under them
NORMALIZED = ROOT / "events" / "stripe" / "invoice.paid.json"

# runs in a fresh interpreter that has only the layer on its path, as Lambda has
ACK_PATH = """
import base64, json, sys
from datetime import datetime
from erphub.sources import get_source
from erphub.sources.inbound import Headers, InboundRequest, SourceCredentials

def loaded():
    return sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in {forbidden}))

acknowledged, first = {}, None
for delivery in json.load(sys.stdin):
    source = get_source(delivery["source"])
    request = InboundRequest(method="POST", url=delivery["url"], headers=Headers(delivery["headers"]),
                             body=base64.b64decode(delivery["body"]),
                             received_at=datetime.fromisoformat(delivery["received_at"]))
    source.verify(request, SourceCredentials.from_secret(delivery["credentials"]))
    events = source.parse(request)
    ack = source.acknowledge(events)
    acknowledged.setdefault(source.name, []).append([len(events), ack[0] if ack else None])
    first = first or (source, events[0])
after_ack = loaded()
envelope = first[0].normalize(first[1])
print(json.dumps({"acknowledged": acknowledged, "after_ack": after_ack, "normalized": envelope.type,
                  "after_normalize": loaded()}))
"""


def deliveries(received_at: datetime) -> list[dict[str, object]]:
    """Every sample webhook of every source, the Stripe invoice.paid first, each signed as its vendor signs it
    (local.webhooks, with the local dev secrets)."""
    samples = sorted((path for source in SOURCE_NAMES for path in (ROOT / "events" / source).iterdir()),
                     key=lambda path: (path != NORMALIZED, str(path)))
    signed = []
    for sample in samples:
        source = sample.parent.name
        url, headers, body = signed_request(source, f"https://hub.example/dev/webhooks/{source}", sample.read_bytes(),
                                            now=received_at)
        signed.append({"source": source, "url": url, "headers": headers, "body": base64.b64encode(body).decode(),
                       "credentials": credentials_for(source), "received_at": received_at.isoformat()})
    return signed


def test_verify_parse_and_acknowledge_import_no_pydantic_and_normalize_still_maps():
    # Given every sample webhook of every source, signed by its vendor
    signed = deliveries(datetime.now(UTC))

    # When a fresh interpreter verifies, parses and acknowledges each one, then normalizes the first event
    script = ACK_PATH.replace("{forbidden}", repr(FORBIDDEN))
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(signed), cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(ROOT / "layers" / "hub" / "python"),
                                                      "PATH": ""})
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)

    # Then every source took its deliveries (Salesforce answering with its SOAP Ack) ...
    assert set(outcome["acknowledged"]) == set(SOURCE_NAMES)
    assert all(count >= 1 for runs in outcome["acknowledged"].values() for count, _ in runs)
    assert {ack for _, ack in outcome["acknowledged"]["salesforce"]} == {"text/xml; charset=utf-8"}
    # ... with no pydantic and no canonical model imported
    assert outcome["after_ack"] == []
    # And normalize still maps, importing the models only then
    assert outcome["normalized"] == "billing.invoice.paid"
    assert set(FORBIDDEN) <= set(outcome["after_normalize"])


def test_the_webhook_function_imports_no_pydantic_and_no_canonical_model():
    # the whole handler module as Lambda loads it (its service, receipts, inbox store, secrets, observability): the
    # mapping into canonical models runs in the publisher (erphub.ingest.mapping), after the answer
    probe = ("import sys, app; print(sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') "
             f"for p in {FORBIDDEN!r})))")
    function, layer = ROOT / "functions" / "webhook_ingest", ROOT / "layers" / "hub" / "python"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60,
                          cwd=function, env={"PYTHONPATH": f"{function}:{layer}", "PATH": "/usr/bin:/bin",
                                             "AWS_DEFAULT_REGION": "us-east-1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
