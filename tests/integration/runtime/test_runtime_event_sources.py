"""SQS and DynamoDB-stream event sources, rule routing and schedules, as the template wires them."""

import json
import uuid

import pytest

pytestmark = pytest.mark.integration


def test_sqs_partial_batch_failure_returns_only_failed_messages_and_redrives_them_to_the_dlq(stack, collect):
    # Given a queue with maxReceiveCount 2 feeding a function that reports batch item failures
    run = uuid.uuid4().hex[:8]
    sqs = stack.client("sqs")
    for index in range(4):
        body = {"id": f"{run}-{index}", "fail": index == 3}
        sqs.send_message(QueueUrl=stack.physical("WorkQueue"), MessageBody=json.dumps(body))
    # When the poller delivers them
    processed = collect("OutputQueue", lambda m: str(m.get("processed", "")).startswith(run), 3)
    # Then the good ones were processed once and deleted
    assert sorted(m["processed"] for m in processed) == [f"{run}-{i}" for i in range(3)]
    assert all(m["receiveCount"] == "1" for m in processed)
    # and the failed one came back after its visibility timeout, then moved to the DLQ by the queue's own policy
    dead = collect("WorkDLQ", lambda m: m.get("id") == f"{run}-3", 1, timeout=15)
    assert dead == [{"id": f"{run}-3", "fail": True}]
    assert stack.queue_depth("WorkQueue") == 0


def test_a_request_to_the_gateway_flows_through_a_queue_to_its_consumer(stack, collect):
    import urllib.request

    run = uuid.uuid4().hex[:8]
    request = urllib.request.Request(stack.endpoints["gateway"] + "/enqueue",  # noqa: S310 - loopback
                                     data=json.dumps({"id": run}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 202
    assert collect("OutputQueue", lambda m: m.get("processed") == run, 1)


def test_stream_source_bisects_retries_and_sends_the_poison_record_to_the_on_failure_destination(stack, collect):
    # Given a table stream whose handler fails any batch holding a poison record
    run = uuid.uuid4().hex[:8]
    table = stack.physical("ItemsTable")
    dynamodb = stack.client("dynamodb")
    for name, poison in (("a", False), ("b", True), ("c", False)):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"item-{run}-{name}"}, "poison": {"BOOL": poison}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"other-{run}"}})  # filtered out by FilterCriteria
    # When the poller delivers, bisecting on error and retrying once
    done = collect("OutputQueue", lambda m: run in str(m.get("stream", "")), 2)
    failed = collect("StreamFailureQueue", lambda m: "DDBStreamBatchInfo" in m, 1)
    # Then the good records were processed, the filtered one never reached the handler
    assert sorted(m["stream"] for m in done) == [f"item-{run}-a", f"item-{run}-c"]
    assert {m["eventName"] for m in done} == {"INSERT"} and {m["viewType"] for m in done} == {"NEW_AND_OLD_IMAGES"}
    assert done[0]["source"] == stack.physical("ItemsTable", "StreamArn")
    # and the poison record alone went to the on-failure destination, shaped like AWS's failure record
    info = failed[0]["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stack.physical("ItemsTable", "StreamArn")
    assert failed[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failed[0]["responseContext"]["functionError"] == "Unhandled"
    assert stack.receive_all("OutputQueue", wait=0.3) == []


def test_rules_route_events_to_queues_with_input_path_and_fifo_group(stack, collect):
    run = uuid.uuid4().hex[:8]
    events = stack.client("events")
    entry = {"Source": "test.orders", "DetailType": "order.placed", "EventBusName": stack.physical("Bus"),
             "Detail": json.dumps({"order": run})}
    ignored = {**entry, "DetailType": "order.cancelled"}
    assert events.put_events(Entries=[entry, ignored])["FailedEntryCount"] == 0
    # InputPath $.detail: the queue receives only the detail
    assert collect("RoutedQueue", lambda m: m.get("order") == run, 1) == [{"order": run}]
    # the FIFO queue receives the whole event, in the group SqsParameters names
    sqs = stack.client("sqs")
    messages = stack.wait_until(lambda: sqs.receive_message(
        QueueUrl=stack.physical("OrdersFifoQueue"), AttributeNames=["All"]).get("Messages"))
    assert json.loads(messages[0]["Body"])["detail"] == {"order": run}
    assert messages[0]["Attributes"]["MessageGroupId"] == "orders"
    sqs.delete_message(QueueUrl=stack.physical("OrdersFifoQueue"), ReceiptHandle=messages[0]["ReceiptHandle"])
    # and the archive recorded what went over the bus
    archive = events.describe_archive(ArchiveName=stack.physical("BusArchive"))
    assert archive["EventCount"] >= 2


def test_schedules_fire_their_targets(stack, collect):
    # rate(1 minute) at speedup 60: about once a second
    assert collect("TickQueue", lambda m: m == {"tick": True}, 1, timeout=5)
    assert collect("TickerOutputQueue", lambda m: m == {"ticker": "schedule"}, 1, timeout=5)
