"""Imports and invokes every handler of the built artifact in a clean python3.12, against the embedded AWS.

The embedded AWS is the local stack's own (template.yaml provisioned into moto, the vendor sandbox started, the
functions' environments resolved to them), without its gateway and pollers: nothing runs unless the check
invokes it. Each invocation is a fresh process of the clean interpreter (a cold start) with the function's
Lambda environment; a Lambda invoke the code makes itself (an adapter called by a consumer, a Task of an
execution) is served the same way, from the artifact too. Samples are events/aws/ (the API Gateway ones are
made fresh: their signatures expire).
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.embedded_aws import FAKE_CREDENTIALS
from local.functions import FunctionSpec
from tools import aws_events
from tools.artifact import ROOT, Unit

RUNNER = Path(__file__).with_name("artifact_runner.py")
LOG_LINES = 15  # of a failing function's log, printed under the summary
SAMPLES = ROOT / "events" / "aws"
# the activation state machine's forward Tasks that call an adapter: (function, action, ResultPath)
ACTIVATION = [("HubStepsFunction", "identity.resolve", "identity"),
              # the two gates read the business configuration from its SSM parameter, as deployed
              ("HubStepsFunction", "quality.check", "quality"),
              ("HubStepsFunction", "approval.evaluate", "approval"),
              ("BillingAdapterFunction", "billing.activate", "billing"),
              ("SuccessAdapterFunction", "success.onboard", "result"),
              ("ErpAdapterFunction", "erp.book", "result"),
              ("CrmAdapterFunction", "crm.activate_account", "crm")]
# the Stripe sample's customer is not one the hub activated, so ERP posting's right answer is a failed message
# (SQS receives it again later) recorded as the typed NotFound the ERP adapter raised: see failed_as_not_found
SQS_SAMPLES = {"ErpSequencerFunction": "sqs-erp-posting-intake.json", "ErpPostingFunction": "sqs-erp-posting.json",
               "RenewalRiskCrmFunction": "sqs-renewal-risk.json", "RenewalRiskBillingFunction": "sqs-renewal-risk.json",
               "RenewalRiskErpFunction": "sqs-renewal-risk.json", "UsageAggregatorFunction": "sqs-usage-recorded.json"}
# API Gateway events as the Cognito authorizer passes them (claims of a verified viewer): answered 200
API_SAMPLES = {"OpsApiFunction": "apigateway-ops-exceptions.json", "OpsConsoleFunction": "apigateway-ops-console.json",
               "SyncApiFunction": "apigateway-api-v1-accounts-validate.json"}
# scheduled runs that answer a dict of counts
SCHEDULE_SAMPLES = {"OpsNotifierFunction": "schedule-ops-sla-sweep.json"}
# DynamoDB stream consumers besides the publisher, given a real stream record: no batch item failures
STREAM_SAMPLES = {"KpiProjectorFunction": "dynamodb-stream-inbox-insert.json"}



@dataclass
class Outcome:
    function: str
    sample: str
    ok: bool
    status: str
    seconds: float
    import_seconds: float | None = None
    log: tuple[str, ...] = ()


class Check:
    def __init__(self, stack: Any, python: Path, built: Path, units: list[Unit]) -> None:
        self.stack, self.python = stack, python
        self.specs: dict[str, FunctionSpec] = {spec.logical_id: spec for spec in stack.wiring.functions}
        sources = {unit.source: unit.logical_id for unit in units if unit.is_layer}
        self.layer_dirs = {path: built / sources[path] / "python" for path in sources}
        self.built = built
        self.outcomes: list[Outcome] = []
        self.closed = False  # after the last sample: Lambda invokes of what is still running are refused

    # --- one cold invocation in the clean interpreter ----------------------------------------------------
    def invoke(self, logical_id: str, event: Any) -> dict[str, Any]:
        spec = self.specs[logical_id]
        with tempfile.TemporaryDirectory(prefix="artifact-") as scratch:
            spec_file, result_file = Path(scratch) / "spec.json", Path(scratch) / "result.json"
            spec_file.write_text(json.dumps({
                "code_dir": str(self.built / logical_id), "handler": spec.handler, "event": event,
                "layer_dirs": [str(self.layer_dirs[Path(p)]) for p in spec.layers], "function_name": spec.name,
                "function_arn": spec.arn, "memory": spec.memory, "timeout": spec.timeout}))
            done = subprocess.run([str(self.python), "-I", "-B", str(RUNNER), str(spec_file), str(result_file)],  # noqa: S603
                                  env=self.environment(spec), capture_output=True, text=True,
                                  timeout=spec.timeout + 30, check=False)
            log = (done.stdout + done.stderr).strip().splitlines()[-LOG_LINES:]  # the function's log, for a failure
            if not result_file.exists():
                return {"ok": False, "phase": "start", "errorType": f"exit {done.returncode}",
                        "errorMessage": "no result", "log": log}
            return {**json.loads(result_file.read_text()), "log": log}

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """What Lambda sets for the function (tracing on, as the template has it, but not sampled: nothing is sent),
        the template's variables resolved to the local resources, and the embedded AWS as the endpoint."""
        trace = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        runtime = {"PATH": f"{self.python.parent}:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
                   "LAMBDA_TASK_ROOT": str(self.built / spec.logical_id), "LAMBDA_RUNTIME_DIR": str(self.python.parent),
                   "AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                   "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory), "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                   "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}", "_HANDLER": spec.handler,
                   "AWS_LAMBDA_LOG_STREAM_NAME": "artifact", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                   "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "_X_AMZN_TRACE_ID": trace,
                   "AWS_ENDPOINT_URL": self.stack.aws.url}
        return {**FAKE_CREDENTIALS, **runtime, **{k: str(v) for k, v in spec.variables.items()}}

    def dispatch(self, function_arn: str, invocation_type: str, body: bytes) -> tuple[bytes, str | None]:
        """moto's Lambda Invoke (an adapter called by the code under check) runs the artifact too."""
        if self.closed:
            return json.dumps({"errorType": "CheckFinished", "errorMessage": "the artifact check is over"}).encode(), \
                "Unhandled"
        spec = next(s for s in self.specs.values() if function_arn.removesuffix(":$LATEST") in (s.arn, s.name))
        result = self.invoke(spec.logical_id, json.loads(body) if body else {})
        if result.get("ok"):
            return json.dumps(result.get("response")).encode(), None
        return json.dumps({k: result.get(k) for k in ("errorType", "errorMessage")}).encode(), "Unhandled"

    # --- the samples ---------------------------------------------------------------------------------------
    def record(self, logical_id: str, sample: str, event: Any, accept: Any) -> dict[str, Any]:
        started = time.monotonic()
        result = self.invoke(logical_id, event)
        response = result.get("response")
        compiled = result.get("compiled") or []
        ok = bool(result.get("ok")) and bool(accept(response)) and not compiled
        status = (_describe(response) if result.get("ok") else
                  f"{result.get('phase')} failed: {result.get('errorType')}: {result.get('errorMessage')}")
        if compiled:  # the layer's .pyc missing or not valid as shipped: every cold start would compile these
            status += f"; {len(compiled)} layer modules compiled from source (first: {compiled[0]})"
        if ok and logical_id == "ErpPostingFunction":
            status += " (as expected: NotFound recorded, the invoice's customer is not activated in the hub yet)"
        self.outcomes.append(Outcome(logical_id, sample, ok, status, round(time.monotonic() - started, 2),
                                     result.get("import_seconds"), () if ok else tuple(result.get("log", ()))))
        return result

    def run(self) -> list[Outcome]:
        stripe = (ROOT / "events" / "stripe" / "invoice.paid.json").read_bytes()
        salesforce = (ROOT / "events" / "salesforce" / "opportunity_closed_won.xml").read_bytes()
        accepted = _status_in(200, 202)
        self.activation()  # first: the renewal-risk signal is about this customer
        # then the samples that do not depend on each other, two at a time (each is a process of its own)
        independent: list[tuple[str, str, Any, Any]] = [
            ("WebhookIngestFunction", "apigateway-webhook-stripe (fresh)", aws_events.api_event("stripe", stripe),
             accepted),
            ("WebhookIngestFunction", "apigateway-webhook-salesforce (fresh)",
             aws_events.api_event("salesforce", salesforce), accepted),
            ("PublisherFunction", "dynamodb-stream-inbox-insert", self.publish_sample(), _no_batch_failures),
            ("OutboxSweeperFunction", "schedule-outbox-sweeper", _sample("schedule-outbox-sweeper.json"),
             lambda r: isinstance(r, dict) and "found" in r),
            # usage of a subscription the hub does not know: counted nowhere, answered as refused
            ("UsageIngestFunction", "apigateway-usage", _sample("apigateway-usage.json"), _status_in(200)),
            ("UsageReporterFunction", "schedule-usage-reporter", _sample("schedule-usage-reporter.json"),
             lambda r: isinstance(r, dict) and r.get("failed") == []),
            # the day's reconciliation: no contracts yet, so a run that completes with nothing checked
            ("ReconcilerFunction", "schedule-reconciliation-daily", _sample("schedule-reconciliation-daily.json"),
             lambda r: isinstance(r, dict) and r.get("status") == "completed" and r.get("failed") == 0),
            *[(logical_id, name.removesuffix(".json"), _sample(name),
               self.failed_as_not_found if logical_id == "ErpPostingFunction" else _no_batch_failures)
              for logical_id, name in SQS_SAMPLES.items()],
            *[(logical_id, name.removesuffix(".json"), _sample(name), _status_in(200))
              for logical_id, name in API_SAMPLES.items()],
            *[(logical_id, name.removesuffix(".json"), _sample(name), lambda r: isinstance(r, dict) and "open" in r)
              for logical_id, name in SCHEDULE_SAMPLES.items()],
            *[(logical_id, name.removesuffix(".json"), _sample(name), _no_batch_failures)
              for logical_id, name in STREAM_SAMPLES.items()]]
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda sample: self.record(*sample), independent))
        # last: the execution it starts runs in the background; its Tasks are the adapters checked above
        self.closed = True
        self.record("WorkflowStarterFunction", "sqs-activation", _sample("sqs-activation.json"), _no_batch_failures)
        return self.outcomes

    def failed_as_not_found(self, response: Any) -> bool:
        """ERP posting's one message failed (SQS receives it again later) and its failure record says why: the
        typed NotFound the ERP adapter raised (the consumers record each failure, erphub.consuming)."""
        if not (isinstance(response, dict) and len(response.get("batchItemFailures") or []) == 1):
            return False
        record = _sample("sqs-erp-posting.json")["Records"][0]
        key = {"pk": {"S": f"FAIL#{record['eventSourceARN'].rsplit(':', 1)[-1]}"},
               "sk": {"S": f"MSG#{record['messageId']}"}}
        item = self.stack.client("dynamodb").get_item(TableName=self.stack.physical("WorkflowTable"), Key=key,
                                                      ConsistentRead=True).get("Item") or {}
        return item.get("error_type", {}).get("S") == "NotFound"

    def publish_sample(self) -> Any:
        """The stream record's item is put in the inbox, as it would be there; the publisher publishes and marks it."""
        event = _sample("dynamodb-stream-inbox-insert.json")
        image = event["Records"][0]["dynamodb"]["NewImage"]
        self.stack.client("dynamodb").put_item(TableName=self.stack.physical("InboxTable"), Item=image)
        return event

    def activation(self) -> None:
        """The activation's adapter Tasks in order, each given the state the state machine would pass it."""
        task = _sample("stepfunctions-activation-task.json")
        state = task["state"]
        for logical_id, action, result_path in ACTIVATION:
            event = {"action": action, "workflow": "activation", "state": state}
            result = self.record(logical_id, f"stepfunctions-activation-task: {action}", event,
                                 lambda r: isinstance(r, dict))
            if action == "erp.book":  # the queued form of the same step, delivered again (at-least-once)
                self.record(logical_id, "sqs-erp-work: erp.book again", _erp_work(event), _no_batch_failures)
            state = {**state, result_path: result.get("response")}


def _erp_work(call: dict[str, Any]) -> dict[str, Any]:
    """The ERP work queue's delivery of a call (erphub.erp_work): booked again by external id, its answer finds no
    run waiting (InvalidToken: the message is done, not failed)."""
    body = json.dumps({**call, "task_token": "artifact-check-no-such-task"})
    return {"Records": [{"messageId": "5d0c8a5e-erp-work", "receiptHandle": "erp-work-1", "body": body,
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                         "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:erphub-local-erp-work"}]}


def _sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def _status_in(*codes: int) -> Any:
    return lambda response: isinstance(response, dict) and response.get("statusCode") in codes


def _no_batch_failures(response: Any) -> bool:
    return isinstance(response, dict) and response.get("batchItemFailures") == []


def _describe(response: Any) -> str:
    if isinstance(response, dict) and "statusCode" in response:
        return f"HTTP {response['statusCode']}"
    if isinstance(response, dict) and "batchItemFailures" in response:
        return f"batchItemFailures={len(response['batchItemFailures'])}"
    text = json.dumps(response, default=str)
    return text if len(text) <= 70 else text[:67] + "..."


def run(python: Path, built: Path, units: list[Unit]) -> int:
    """Start the embedded AWS, check every function, print the summary; 0 when every function passed."""
    from local import moto_lambda
    from local.stack import HubStack

    started = time.monotonic()
    # the execution the starter starts fails at its first Task once the check is over: not worth a log line
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    with HubStack(ROOT / "template.yaml", sandbox=True, runtime=False, preload=False) as stack:
        check = Check(stack, python, built, units)
        moto_lambda.set_dispatcher(check.dispatch)
        outcomes = check.run()
        missing = sorted(set(check.specs) - {o.function for o in outcomes})
    print(f"[artifact] handlers of the built artifact in a clean python3.12 ({python.parent.parent.name}: "
          "boto3 only), against the embedded AWS:")
    for o in outcomes:
        cold = f"import {o.import_seconds:.2f}s" if o.import_seconds is not None else "not imported"
        print(f"  {'ok  ' if o.ok else 'FAIL'} {o.function:28} {cold:16} {o.seconds:5.2f}s  {o.sample}: {o.status}")
    for o in [o for o in outcomes if o.log][:3]:  # the first failures' logs are enough to see why
        for line in o.log:
            print(f"  | {o.function}: {line[:300]}")
    for logical_id in missing:
        print(f"  FAIL {logical_id:28} no sample in events/aws/ checks this function")
    failed = sum(not o.ok for o in outcomes) + len(missing)
    print(f"[artifact] {len(outcomes) - failed + len(missing)} passed, {failed} failed "
          f"({len(check.specs)} functions, {time.monotonic() - started:.1f} s)")
    return 1 if failed else 0
