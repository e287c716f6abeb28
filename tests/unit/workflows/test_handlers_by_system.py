"""The one-line handler files of the adapters and the renewal-risk consumers: each file binds its own system."""

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from erphub import adapters, signals
from erphub.errors import Permanent

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"
ADAPTER_FUNCTIONS = {"crm_adapter": "crm", "billing_adapter": "billing", "success_adapter": "success",
                     "erp_adapter": "erp", "hub_steps": "hub_steps"}
CONTEXT = SimpleNamespace(function_name="f", memory_limit_in_mb=128, invoked_function_arn="arn:aws:lambda:f",
                          aws_request_id="r1", get_remaining_time_in_millis=lambda: 120_000)


def handler_of(function_dir: str):
    spec = importlib.util.spec_from_file_location(f"app_{function_dir}", FUNCTIONS / function_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


@pytest.mark.parametrize("function_dir, system", ADAPTER_FUNCTIONS.items())
def test_each_adapter_function_serves_its_own_system_and_no_other(function_dir, system):
    # Given the handler file of one adapter function
    handler = handler_of(function_dir)
    # When it is asked for an action of no system
    with pytest.raises(Permanent) as refused:
        handler({"action": "nobody.anything", "state": {}}, CONTEXT)
    # Then the refusal names the system the file is bound to
    assert f"the {system} adapter has no action 'nobody.anything'" in refused.value.reason


def sqs_record(message_id: str, body: dict) -> dict:
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:risk",
            "awsRegion": "us-east-1"}


@pytest.mark.parametrize("system", ["crm", "billing", "erp"])
def test_each_renewal_risk_function_reacts_for_its_own_system(system, monkeypatch):
    # Given the handler file of one renewal-risk consumer, with the adapter call recorded
    reacted = []
    monkeypatch.setattr(signals, "renewal_risk", lambda which, event: reacted.append((which, event)) or {})
    handler = handler_of(f"renewal_risk_{system}")
    # When a signal arrives
    response = handler({"Records": [sqs_record("m1", {"detail": {"n": 1}})]}, CONTEXT)
    # Then it was handled for that system, and the batch reports no failure
    assert reacted == [(system, {"detail": {"n": 1}})] and response == {"batchItemFailures": []}


def test_a_handler_for_a_system_that_has_none_is_refused_at_once():
    with pytest.raises(Permanent):
        adapters.lambda_handler_for("hub")
    with pytest.raises(Permanent):
        signals.lambda_handler_for("success")
