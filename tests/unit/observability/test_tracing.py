"""Tracing as Lambda runs it: a fresh interpreter with Lambda's environment, the X-Ray daemon a UDP socket here.

Each case runs in its own interpreter because the X-Ray SDK's enabled flag, Powertools' Tracer configuration and
botocore's patching are process-wide, and the test session itself runs with tracing disabled."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "hub" / "python"
TRACE_ID = "1-67a0b1c2-0123456789abcdef01234567"

# a function handler the way functions/*/app.py write it, which then calls DynamoDB through erphub.aws (the endpoint
# refuses the connection: the call fails fast, and X-Ray records it as it would any other)
HANDLER = """
import json, sys
from erphub import aws
{tracer}

@tracer.capture_lambda_handler(capture_response=False)
def handler(event, context):
    try:
        aws.client("dynamodb").describe_table(TableName="inbox")
    except Exception:
        pass
    return {"statusCode": 202}

loaded = {name: name in sys.modules for name in ("aws_xray_sdk.core", "requests", "sqlite3")}
handler({}, None)
after = {name: name in sys.modules for name in ("aws_xray_sdk.core", "requests", "sqlite3")}
print(json.dumps({"at_import": loaded, "after_first_request": after}))
"""


OURS = "from erphub.observability import tracer"
POWERTOOLS_OWN = "from aws_lambda_powertools import Tracer; tracer = Tracer()"  # the stock provider, for comparison


def run_function(daemon_port: int, tracer: str = OURS, **environment: str) -> dict[str, dict[str, bool]]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_XRAY", "POWERTOOLS_TRACE", "_X_AMZN"))}
    env.update({"PYTHONPATH": str(LAYER), "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "webhook_ingest"),
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1",
                "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon_port}", "POWERTOOLS_SERVICE_NAME": "erphub",
                "_X_AMZN_TRACE_ID": f"Root={TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1", **environment})
    done = subprocess.run([sys.executable, "-c", HANDLER.replace("{tracer}", tracer)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def received(daemon: socket.socket) -> list[dict]:
    """The subsegments the SDK sent: UDP datagrams of a JSON header line, then the document."""
    documents = []
    daemon.settimeout(0.5)
    try:
        while True:
            documents.append(json.loads(daemon.recv(65536).decode().split("\n", 1)[1]))
    except TimeoutError:
        return documents


@pytest.fixture
def daemon():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        yield udp


def test_an_invocation_records_the_handler_and_its_aws_calls_as_with_powertools_own_provider(daemon):
    # Given Lambda's environment with X-Ray active; When the handler runs once
    modules = run_function(daemon.getsockname()[1])
    subsegments = {doc["name"]: doc for doc in received(daemon)}

    # Then the handler's subsegment carries the cold start and the service, in the invocation's trace
    handler = subsegments["## handler"]
    assert handler["trace_id"] == TRACE_ID
    assert handler["annotations"] == {"ColdStart": True, "Service": "erphub"}
    # and the DynamoDB call made inside it is traced (botocore patched)
    call = subsegments["dynamodb"]
    assert call["parent_id"] == handler["id"]
    assert call["aws"] == {"operation": "DescribeTable", "region": "us-east-1", "table_name": "inbox"}
    # and the SDK was loaded by the first invocation, not by the import; nothing unused was imported to patch it
    assert modules["at_import"]["aws_xray_sdk.core"] is False
    assert modules["after_first_request"] == {"aws_xray_sdk.core": True, "requests": False, "sqlite3": False}


def test_with_the_sdk_disabled_nothing_of_it_is_loaded_and_nothing_is_sent(daemon):
    # Given the local stack's setting; When the handler runs once
    modules = run_function(daemon.getsockname()[1], AWS_XRAY_SDK_ENABLED="false")

    # Then the recorder was never imported and no subsegment left the process
    assert modules["after_first_request"]["aws_xray_sdk.core"] is False
    assert received(daemon) == []


def shape(documents: list[dict]) -> list[tuple]:
    """What a trace shows of a subsegment: its name, parent (by name), annotations, AWS operation and outcome."""
    names = {doc["id"]: doc["name"] for doc in documents}
    return sorted((doc["name"], names.get(doc.get("parent_id", ""), "facade"), json.dumps(doc.get("annotations")),
                   (doc.get("aws") or {}).get("operation"), bool(doc.get("fault") or doc.get("error")))
                  for doc in documents)


def test_the_trace_is_the_one_powertools_own_provider_records(daemon):
    # Given the same function traced by the stock Tracer() and by ours; When each runs once
    run_function(daemon.getsockname()[1], tracer=POWERTOOLS_OWN)
    stock = received(daemon)
    modules = run_function(daemon.getsockname()[1])
    ours = received(daemon)

    # Then the subsegments are the same; only the stock one imported libraries to patch that the function never used
    assert shape(ours) == shape(stock) and len(ours) >= 2
    assert modules["after_first_request"]["sqlite3"] is False
