"""local/moto_dynamodb.py: DynamoDB transactions on the embedded AWS are all-or-nothing, never discard other
writes and never move the stream; and the moto internals it replaces are still the ones it was written for."""

from __future__ import annotations

import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from local import moto_dynamodb

pytestmark = pytest.mark.integration


def test_moto_is_the_pinned_version_and_every_backend_method_is_locked(stack):
    import moto

    assert moto.__version__ == moto_dynamodb.EXPECTED_MOTO, "re-check local/moto_dynamodb.py against the new moto"
    moto_dynamodb.check_compatible()
    assert moto_dynamodb.installed()
    moto_dynamodb.install()  # idempotent
    dynamodb, _ = moto_dynamodb.backends()
    assert dynamodb.transact_write_items.__erphub_locked__.__qualname__ == "DynamoDBBackend.transact_write_items"


@pytest.fixture
def table(stack):
    ddb = stack.client("dynamodb")
    name = f"guard-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield name
    ddb.delete_table(TableName=name)


def _put(table: str, pk: str, **extra: dict) -> dict:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, **extra},
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def _stream_reader(stack, table: str):
    streams = stack.client("dynamodbstreams")
    arn = stack.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    state = {"iterator": streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]}

    def read() -> list[str]:
        response = streams.get_records(ShardIterator=state["iterator"])
        state["iterator"] = response["NextShardIterator"]
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in response["Records"]]

    return read


def _keys(stack, table: str) -> set[str]:
    pages = stack.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return {i["pk"]["S"] for page in pages for i in page["Items"]}


def test_a_cancelled_transaction_writes_nothing_and_the_stream_reader_keeps_reading(stack, table):
    ddb, read = stack.client("dynamodb"), _stream_reader(stack, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "n": {"N": "1"}})
    assert read() == ["old"]
    # When a batch whose last item already exists is written as one transaction
    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(TransactItems=[_put(table, "a"), _put(table, "b"), _put(table, "old")])
    # Then it is cancelled with DynamoDB's reasons, and nothing of it is in the table or on the stream
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert _keys(stack, table) == {"old"}
    assert read() == []
    # And the reader that was open before sees the writes made after it
    ddb.transact_write_items(TransactItems=[_put(table, "a"), _put(table, "b")])
    assert read() == ["a", "b"]


def test_a_write_failing_in_the_second_phase_is_undone_with_its_stream_records(stack, table):
    ddb, read = stack.client("dynamodb"), _stream_reader(stack, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "text"}, "n": {"S": "not a number"}})
    read()
    # When every condition holds but an update cannot apply (ADD to a string) after a put went in
    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(TransactItems=[
            _put(table, "new"),
            {"Update": {"TableName": table, "Key": {"pk": {"S": "text"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    # Then the put is undone and never reached the stream
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _keys(stack, table) == {"text"}
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "text"}})["Item"]
    assert item["n"] == {"S": "not a number"}
    assert read() == []


def test_all_old_returns_the_item_that_failed_the_condition(stack, table):
    ddb = stack.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "there"}, "v": {"S": "kept"}})
    put = _put(table, "there")
    put["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(TransactItems=[put])
    assert cancelled.value.response["CancellationReasons"][0]["Item"]["v"] == {"S": "kept"}


def test_cancelled_transactions_do_not_discard_concurrent_writes(stack, table):
    # Given one writer putting items one by one while others send batches that are always cancelled
    ddb = stack.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "dup"}})
    puts = [f"p{n}" for n in range(150)]
    done = threading.Event()

    def cancelling() -> None:
        while not done.is_set():
            batch = [_put(table, f"t{uuid.uuid4().hex}") for _ in range(8)] + [_put(table, "dup")]
            with pytest.raises(ClientError):
                ddb.transact_write_items(TransactItems=batch)

    workers = [threading.Thread(target=cancelling) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for pk in puts:
            ddb.put_item(TableName=table, Item={"pk": {"S": pk}})
    finally:
        done.set()
        for worker in workers:
            worker.join(timeout=30)
    # Then every single put is there, and nothing of the cancelled batches
    assert _keys(stack, table) == {"dup", *puts}
