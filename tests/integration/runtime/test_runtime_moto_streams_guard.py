"""local/moto_streams.py: DynamoDB stream records are trimmed once every local event source delivered them (the
newest KEEP_RECORDS always kept), shard iterators are bounded, an old iterator reads as expired, and a reader
behind the trimmed part reads from the oldest record kept; and the moto internals it wraps are unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from local import moto_streams
from local.template import ACCOUNT_ID, REGION

pytestmark = pytest.mark.integration


def test_the_wrapped_moto_internals_are_still_what_the_module_expects(stack):
    from local import moto_dynamodb

    moto_streams.check_compatible()
    moto_streams.install()  # idempotent
    assert moto_dynamodb.installed(), "local.moto_dynamodb must still see every backend method locked"


@pytest.fixture
def table(stack, monkeypatch):
    monkeypatch.setattr(moto_streams, "KEEP_RECORDS", 3)
    ddb = stack.client("dynamodb")
    name = f"streams-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield name
    ddb.delete_table(TableName=name)


def _records(stack, table: str, position: str = "TRIM_HORIZON") -> tuple[list[str], list[str], str]:
    """(keys read from position, their sequence numbers, the next iterator)."""
    streams = stack.client("dynamodbstreams")
    arn = stack.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=position)["ShardIterator"]
    response = streams.get_records(ShardIterator=iterator)
    return ([r["dynamodb"]["Keys"]["pk"]["S"] for r in response["Records"]],
            [r["dynamodb"]["SequenceNumber"] for r in response["Records"]], response["NextShardIterator"])


def test_records_are_trimmed_only_once_every_reader_delivered_them(stack, table):
    # Given two local readers of the stream and ten writes
    ddb = stack.client("dynamodb")
    moto_streams.register(table, 1)
    moto_streams.register(table, 2)
    for n in range(10):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    keys, numbers, _ = _records(stack, table)
    assert keys == [f"k{n}" for n in range(10)]
    # When one reader delivered eight records: nothing goes (the other has delivered none)
    moto_streams.delivered(table, 1, numbers[7], ACCOUNT_ID, REGION)
    assert _records(stack, table)[0] == keys
    # When the other delivered five: the five both delivered go
    moto_streams.delivered(table, 2, numbers[4], ACCOUNT_ID, REGION)
    assert _records(stack, table)[0] == keys[5:]
    # When both delivered everything: the newest KEEP_RECORDS (3) stay, and numbering goes on unchanged
    moto_streams.delivered(table, 1, numbers[9], ACCOUNT_ID, REGION)
    moto_streams.delivered(table, 2, numbers[9], ACCOUNT_ID, REGION)
    assert _records(stack, table)[0] == keys[7:]
    ddb.put_item(TableName=table, Item={"pk": {"S": "k10"}})
    after, new_numbers, _ = _records(stack, table)
    assert after == [*keys[7:], "k10"] and int(new_numbers[-1]) == int(numbers[9]) + 1
    moto_streams.unregister(table, 1)
    moto_streams.unregister(table, 2)


def test_a_reader_behind_the_trimmed_part_reads_from_the_oldest_record_kept(stack, table):
    ddb = stack.client("dynamodb")
    streams = stack.client("dynamodbstreams")
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    _, numbers, _ = _records(stack, table)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    behind = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        SequenceNumber=numbers[0])["ShardIterator"]
    for n in range(6):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    moto_streams.register(table, 3)
    moto_streams.delivered(table, 3, str(int(numbers[0]) + 6), ACCOUNT_ID, REGION)
    moto_streams.unregister(table, 3)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=behind)["Records"]] == \
        ["k3", "k4", "k5"]


def test_shard_iterators_are_bounded_and_a_forgotten_one_reads_as_expired(stack, table, monkeypatch):
    monkeypatch.setattr(moto_streams, "MAX_ITERATORS", 5)
    streams = stack.client("dynamodbstreams")
    _, _, oldest = _records(stack, table)
    for _ in range(10):
        _, _, latest = _records(stack, table)
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    assert len(dynamodbstreams_backends[ACCOUNT_ID][REGION].shard_iterators) <= 5
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    with pytest.raises(ClientError) as refused:
        streams.get_records(ShardIterator=oldest)
    assert refused.value.response["Error"]["Code"] == "ExpiredIteratorException"


def test_get_records_answers_what_moto_s_serializer_answered(stack, table):
    # Given an insert, a modify and an item with a binary value
    ddb = stack.client("dynamodb")
    before = datetime.now(UTC) - timedelta(seconds=5)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x", "y"]},
                                        "doc": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}]}}}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "blob": {"B": b"\x00\xffbinary"}})
    # When the records are read
    streams = stack.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    # Then they carry what DynamoDB Streams documents, parsed by botocore as from AWS
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "INSERT"]
    inserted, modified, binary = (r["dynamodb"] for r in records)
    assert inserted["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x", "y"]},
                                    "doc": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}]}}}}
    assert modified["OldImage"]["n"] == {"N": "1.5"} and modified["NewImage"]["n"] == {"N": "2"}
    assert binary["NewImage"]["blob"] == {"B": b"\x00\xffbinary"}
    assert before < inserted["ApproximateCreationDateTime"] < datetime.now(UTC) + timedelta(seconds=5)
    assert int(inserted["SequenceNumber"]) < int(modified["SequenceNumber"]) and inserted["Keys"] == {"pk": {"S": "a"}}


def test_binary_values_are_answered_without_moto_s_serializer(stack, table, monkeypatch):
    # Given an item with binary values at every depth (the inbox keeps the raw body as B)
    from moto.core.serialize import ResponseSerializer

    ddb = stack.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "bin"}, "raw": {"B": b"\x00\xff{raw}"},
                                        "set": {"BS": [b"x", b"\x80"]}, "doc": {"M": {"in": {"L": [{"B": b"q"}]}}}})
    streams = stack.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    serialized = []
    original = ResponseSerializer.serialize
    monkeypatch.setattr(ResponseSerializer, "serialize", lambda self, *a, **k: serialized.append(1) or original(
        self, *a, **k))
    # When its record is read
    image = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"][0]["dynamodb"]["NewImage"]
    # Then botocore reads the bytes back as from AWS, and moto's serializer was not needed
    assert image == {"pk": {"S": "bin"}, "raw": {"B": b"\x00\xff{raw}"}, "set": {"BS": [b"x", b"\x80"]},
                     "doc": {"M": {"in": {"L": [{"B": b"q"}]}}}}
    assert serialized == []


def _as_lambda_hands_it(value):
    """botocore's parsed record as Lambda hands it to a function: epoch seconds, binaries base64."""
    import base64

    if isinstance(value, dict):
        return {k: _as_lambda_hands_it(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_lambda_hands_it(v) for v in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def test_event_sources_read_from_the_backend_what_the_api_answers(stack, table):
    # Given records with every kind of value, binaries at every depth, and a modify with both images
    ddb = stack.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x", "y"]},
                                        "nums": {"NS": ["1", "2"]}, "raw": {"B": b"\x00\xff{raw}"},
                                        "set": {"BS": [b"x", b"\x80"]},
                                        "doc": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}, {"B": b"q"}]}}}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    streams = stack.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def iterator() -> str:
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    # When an event source reads them from the backend, and a client through the API
    following, direct = moto_streams.read(iterator(), 10, ACCOUNT_ID, REGION)
    answered = streams.get_records(ShardIterator=iterator(), Limit=10)["Records"]
    # Then they are the same records, as Lambda hands them over, and the next read goes on after them
    assert [r["eventName"] for r in direct] == ["INSERT", "MODIFY", "REMOVE"]
    assert direct == [_as_lambda_hands_it(r) for r in answered]
    assert isinstance(direct[0]["dynamodb"]["ApproximateCreationDateTime"], int)
    assert moto_streams.read(following, 10, ACCOUNT_ID, REGION)[1] == []
    # and what they read is a copy: the stream's own records are unchanged by the reader
    direct[0]["dynamodb"]["Keys"]["pk"]["S"] = "changed"
    assert moto_streams.read(iterator(), 1, ACCOUNT_ID, REGION)[1][0]["dynamodb"]["Keys"] == {"pk": {"S": "a"}}


def test_an_event_source_reading_a_forgotten_iterator_is_told_it_expired(stack, table, monkeypatch):
    monkeypatch.setattr(moto_streams, "MAX_ITERATORS", 2)
    _, _, oldest = _records(stack, table)
    for _ in range(4):
        _records(stack, table)
    with pytest.raises(moto_streams.ExpiredIterator):
        moto_streams.read(oldest, 10, ACCOUNT_ID, REGION)
