"""The template keeps the house rules (STYLE.md, DESIGN.md): every queue has a DLQ, every DLQ an alarm,
every function a log group with retention, every stream/queue consumer reports partial batch failures,
and the ack path's function may write only to the inbox."""

from pathlib import Path

import pytest

from local.cfn_yaml import load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
RESOURCES = load_template(ROOT / "template.yaml")["Resources"]


def _of_type(kind: str) -> dict[str, dict]:
    return {lid: r for lid, r in RESOURCES.items() if r["Type"] == kind}


def _refs(value) -> set[str]:
    """Logical ids a property refers to (Ref / GetAtt / Sub ${X} / ${X.Attr})."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found |= {part.split("}")[0].split(".")[0] for part in text.split("${")[1:]}
        for inner in value.values():
            found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def _dead_letter_queues() -> set[str]:
    dlqs: set[str] = set()
    for queue in _of_type("AWS::SQS::Queue").values():
        dlqs |= _refs(queue["Properties"].get("RedrivePolicy", {}))
    for function in _of_type("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            dlqs |= _refs(event["Properties"].get("DestinationConfig", {}))
    for rule in _of_type("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            dlqs |= _refs(target.get("DeadLetterConfig", {}))
    return dlqs


def test_every_queue_that_is_not_a_dlq_redrives_to_one():
    dlqs = _dead_letter_queues()
    missing = [lid for lid, q in _of_type("AWS::SQS::Queue").items()
               if lid not in dlqs and "RedrivePolicy" not in q["Properties"]]
    assert missing == []


def test_every_dlq_has_an_alarm_on_its_depth():
    alarmed = set()
    for alarm in _of_type("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        if properties.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            alarmed |= _refs(properties.get("Dimensions", []))
    assert sorted(_dead_letter_queues() - alarmed) == []


def test_every_function_has_a_log_group_with_retention():
    log_groups = [g["Properties"] for g in _of_type("AWS::Logs::LogGroup").values()]
    covered = {ref for g in log_groups if "RetentionInDays" in g for ref in _refs(g.get("LogGroupName", {}))}
    assert sorted(set(_of_type("AWS::Serverless::Function")) - covered) == []


def test_queue_and_stream_consumers_report_partial_batch_failures():
    for lid, function in _of_type("AWS::Serverless::Function").items():
        for name, event in function["Properties"].get("Events", {}).items():
            if event["Type"] in ("SQS", "DynamoDB"):
                assert "ReportBatchItemFailures" in event["Properties"].get("FunctionResponseTypes", []), \
                    f"{lid}.{name}"


def test_the_ack_path_writes_only_to_the_inbox_and_the_claim_check_bucket():
    statements = [s for p in RESOURCES["WebhookIngestFunction"]["Properties"]["Policies"]
                  for s in p.get("Statement", [])]
    writes = {s["Action"]: _refs(s["Resource"]) for s in statements if s["Action"] != "secretsmanager:GetSecretValue"}
    assert writes == {"dynamodb:PutItem": {"InboxTable"}, "s3:PutObject": {"RawBodyBucket"}}


def test_the_inbox_keeps_items_long_enough_for_every_vendors_retries():
    ttl_days = load_template(ROOT / "template.yaml")["Parameters"]["InboxTtlDays"]
    assert int(ttl_days["Default"]) >= 7 and int(ttl_days["MinValue"]) >= 7
    assert RESOURCES["InboxTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


def _function_timeout(function: dict) -> int:
    """The function's Timeout, else the Globals' one, else Lambda's default (3 s)."""
    globals_ = load_template(ROOT / "template.yaml").get("Globals", {}).get("Function", {})
    return int(function["Properties"].get("Timeout", globals_.get("Timeout", 3)))


def _sqs_sources() -> list[tuple[str, str]]:
    """(function, queue) for every SQS event source: SAM SQS events and plain event-source mappings."""
    sources = [(lid, queue) for lid, function in _of_type("AWS::Serverless::Function").items()
               for event in function["Properties"].get("Events", {}).values() if event["Type"] == "SQS"
               for queue in _refs(event["Properties"]["Queue"])]
    for mapping in _of_type("AWS::Lambda::EventSourceMapping").values():
        queues = _refs(mapping["Properties"]["EventSourceArn"]) & set(_of_type("AWS::SQS::Queue"))
        sources += [(function, queue) for function in _refs(mapping["Properties"]["FunctionName"]) for queue in queues]
    return sources


def test_every_queue_that_feeds_a_function_hides_a_message_for_six_times_its_timeout():
    # AWS's rule for SQS event sources: VisibilityTimeout >= 6 x the function's timeout, so a message is not
    # received again while a (throttled, retried) invocation may still be working on it
    sources = _sqs_sources()
    assert len(sources) >= 8
    too_short = [f"{queue} ({RESOURCES[queue]['Properties'].get('VisibilityTimeout', 30)} s) feeds {function} "
                 f"({_function_timeout(RESOURCES[function])} s)" for function, queue in sources
                 if int(RESOURCES[queue]["Properties"].get("VisibilityTimeout", 30))
                 < 6 * _function_timeout(RESOURCES[function])]
    assert too_short == []


def test_a_poison_message_holds_the_erp_posting_queue_for_minutes_not_half_an_hour():
    # the consumers bring a failed message back after QueueRetryDelaySeconds, doubling per receive, and
    # dead-letter it on its last receive (erphub.consuming): the customer's group waits at most the delays
    from erphub.consuming import MAX_RETRY_DELAY_SECONDS

    base = int(load_template(ROOT / "template.yaml")["Parameters"]["QueueRetryDelaySeconds"]["Default"])
    receives = int(RESOURCES["ErpPostingQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"])
    held = sum(min(base * 2 ** (n - 1), MAX_RETRY_DELAY_SECONDS) for n in range(1, receives))
    assert receives >= 3 and held <= 180
