"""local/moto_serializer.py: moto's serializer answers byte for byte what it answered before the keys to try were
remembered (DynamoDB items of every attribute type, Step Functions timestamps, EventBridge, SQS, aliased
and object results), and the moto internals it relies on are still the ones it was written for."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest

from local import moto_serializer

pytestmark = pytest.mark.integration

ITEM = {"pk": {"S": "O2C#Grüße"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\xffbin"}, "ok": {"BOOL": True},
        "none": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"x", b"y"]},
        "m": {"M": {"deep": {"L": [{"S": "x"}, {"M": {"e": {"N": "0"}}}, {"L": []}]}}}, "empty": {"M": {}}}
CAPACITY = {"TableName": "kpi", "CapacityUnits": 1, "Table": {"CapacityUnits": 1.0}}
NOW = datetime.datetime(2026, 12, 1, 15, 0, 1, 250000, tzinfo=datetime.UTC)
ANSWERS: list[tuple[str, str, str, Any]] = [
    ("dynamodb", "json", "GetItem", {"Item": ITEM, "ConsumedCapacity": CAPACITY}),
    ("dynamodb", "json", "GetItem", {}),
    ("dynamodb", "json", "GetItem", {"Item": {"plain": {"M": {"s": {"S": "x"}, "l": {"L": [{"N": "1"}]}}},
                                              "not-plain": {"L": [{"S": "x"}, None, {"B": "YQ=="}, {}]},
                                              "typed": {"N": 5}, "two": {"S": "a", "N": "1"}, "set": {"SS": ("a",)},
                                              "empty": {}, "none": None}}),
    ("dynamodbstreams", "json", "GetRecords", {"Records": [{"eventID": "1", "eventName": "MODIFY", "dynamodb": {
        "Keys": {"pk": {"S": "k"}}, "NewImage": ITEM, "OldImage": {"pk": {"S": "k"}, "v": {"N": "1"}},
        "SequenceNumber": "100", "SizeBytes": 20, "StreamViewType": "NEW_AND_OLD_IMAGES"}}],
        "NextShardIterator": "it"}),
    ("dynamodb", "json", "UpdateItem", {"Attributes": ITEM, "ConsumedCapacity": CAPACITY}),
    ("dynamodb", "json", "PutItem", {"ConsumedCapacity": CAPACITY, "ItemCollectionMetrics": None}),
    ("dynamodb", "json", "Query", {"Items": [ITEM, ITEM], "Count": 2, "ScannedCount": 2,
                                   "LastEvaluatedKey": {"pk": {"S": "k"}}}),
    ("dynamodb", "json", "TransactWriteItems", {"ConsumedCapacity": [CAPACITY, CAPACITY]}),
    ("dynamodb", "json", "DescribeTable", {"Table": {"TableName": "t", "TableStatus": "ACTIVE", "ItemCount": 3,
                                                     "CreationDateTime": NOW, "StreamSpecification": {
                                                         "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}}),
    ("stepfunctions", "json", "DescribeExecution", {"executionArn": "arn:x", "status": "RUNNING", "startDate": NOW,
                                                    "input": '{"a": 1}', "name": "deal-1", "extra": "dropped"}),
    ("stepfunctions", "json", "StartExecution", {"executionArn": "arn:x", "startDate": NOW}),
    ("stepfunctions", "json", "ListExecutions", {"executions": [{"executionArn": "arn:x", "status": "SUCCEEDED",
                                                                 "startDate": NOW, "stopDate": NOW}]}),
    ("events", "json", "PutEvents", {"FailedEntryCount": 0, "Entries": [{"EventId": "e1"}, {"EventId": "e2"}]}),
    ("sqs", "json", "SendMessage", {"MessageId": "m", "MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e"}),
    ("sqs", "query", "SendMessage", {"MessageId": "m", "MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e"}),
    ("sqs", "json", "GetQueueAttributes", {"Attributes": {"VisibilityTimeout": "30", "DelaySeconds": "0"}}),
    ("ssm", "json", "GetParameter", {"Parameter": {"Name": "/erphub/business", "Type": "String", "Value": "{}",
                                                   "Version": 3, "LastModifiedDate": NOW}}),
    # moto's aliases: snake_case keys, a shape's own name for a list, numbers as Decimal
    ("dynamodb", "json", "Query", {"items": [ITEM], "count": decimal.Decimal(1), "scanned_count": 1}),
    ("stepfunctions", "json", "ListExecutions", {"executions": [{"execution_arn": "arn:y", "status": "FAILED",
                                                                 "start_date": NOW}]}),
    ("events", "json", "PutEvents", {"failed_entry_count": 1, "PutEventsResultEntryList": [{"ErrorCode": "x"}]}),
]


class _Execution:
    """An object result (moto's models): served by moto's own picker, unchanged."""

    def __init__(self) -> None:
        self.execution_arn, self.status, self.start_date = "arn:z", "ABORTED", NOW


def _serialize(service: str, protocol: str, operation: str, result: Any) -> Any:
    from moto.core.responses import ActionContext, ActionResult, get_service_model
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class

    model = get_service_model(service)
    serializer = get_serializer_class(service, protocol)(operation_model=model.operation_model(operation),
                                                           value_picker=XFormedAttributePicker())
    del ActionContext, ActionResult  # the same classes moto's responses use: imported to fail loudly if moved
    return serializer.serialize(result)


def _both(monkeypatch: pytest.MonkeyPatch, *case: Any) -> tuple[Any, Any]:
    moto_serializer.install()
    cls = moto_serializer.serialize_module().ResponseSerializer
    remembered = [_serialize(*case), _serialize(*case)]  # the second answer comes from the remembered keys
    assert remembered[0] == remembered[1]
    monkeypatch.setattr(cls, "get_value", cls.get_value.__erphub_keys_remembered__)
    json_cls = moto_serializer.serialize_module().BaseJSONSerializer
    structure = json_cls._serialize_type_structure
    monkeypatch.setattr(json_cls, "_serialize_type_structure", structure.__erphub_keys_remembered__)
    return remembered[1], _serialize(*case)


def test_the_moto_internals_are_still_what_the_module_expects():
    moto_serializer.check_compatible()
    moto_serializer.install()
    moto_serializer.install()  # idempotent: wraps once
    get_value = moto_serializer.serialize_module().ResponseSerializer.get_value
    assert get_value.__erphub_keys_remembered__.__qualname__ == "ResponseSerializer.get_value"
    structure = moto_serializer.serialize_module().BaseJSONSerializer._serialize_type_structure
    assert structure.__erphub_keys_remembered__.__qualname__ == "BaseJSONSerializer._serialize_type_structure"


@pytest.mark.parametrize(("service", "protocol", "operation", "result"), ANSWERS,
                         ids=[f"{a[0]}-{a[1]}-{a[2]}-{i}" for i, a in enumerate(ANSWERS)])
def test_answers_are_byte_for_byte_moto_s_own(monkeypatch, service, protocol, operation, result):
    remembered, moto_own = _both(monkeypatch, service, protocol, operation, result)
    assert remembered["body"] == moto_own["body"] and remembered["body"]
    assert remembered["headers"] == moto_own["headers"] and remembered["status_code"] == moto_own["status_code"]


def test_plain_attribute_values_are_written_directly_and_the_rest_by_moto():
    assert moto_serializer.plain_attribute_value({"M": {"a": {"L": [{"BOOL": False}, {"NS": ["1"]}]}}}) == {
        "M": {"a": {"L": [{"BOOL": False}, {"NS": ["1"]}]}}}
    for not_plain in ({"B": b"x"}, {"BS": [b"x"]}, {"S": 1}, {"NULL": 1}, {"SS": ("a",)}, {"SS": [1]}, {},
                      {"S": "a", "N": "1"}, {"M": {"a": {"B": b"x"}}}, {"L": [None]}, {"s": "lower"}, "S"):
        assert moto_serializer.plain_attribute_value(not_plain) is None, not_plain


def test_an_object_result_still_takes_moto_s_own_path(monkeypatch):
    remembered, moto_own = _both(monkeypatch, "stepfunctions", "json", "DescribeExecution", _Execution())
    assert remembered == moto_own and '"executionArn": "arn:z"' in remembered["body"]


def test_the_aliases_found_are_moto_s_own_for_snake_case_keys(monkeypatch):
    remembered, _ = _both(monkeypatch, "stepfunctions", "json", "ListExecutions",
                          {"executions": [{"execution_arn": "arn:y", "status": "FAILED", "start_date": NOW}]})
    assert '"executionArn": "arn:y"' in remembered["body"] and '"startDate": 1796137201.25' in remembered["body"]
