"""local/moto_sqs.py: ReceiveMessage answers what moto's serializer answered (body, checksums, system
attributes; message attributes through moto's own path), and the moto internals it wraps are unchanged."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from local import moto_sqs

pytestmark = pytest.mark.integration


def test_the_wrapped_moto_method_is_still_what_the_module_expects(stack):
    moto_sqs.check_compatible()
    moto_sqs.install()  # idempotent
    assert moto_sqs.handler().receive_message.__erphub_plain_json__.__qualname__ == "SQSResponse.receive_message"


@pytest.mark.parametrize("fifo", [False, True])
def test_received_messages_carry_what_sqs_documents(stack, fifo):
    # Given messages with unicode bodies, one of them with message attributes
    sqs = stack.client("sqs")
    name = f"plain-{uuid.uuid4().hex[:8]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    group = {"MessageGroupId": "g"} if fifo else {}
    body = json.dumps({"text": "Grüße \u2603 \"quoted\" \\ back"}, ensure_ascii=False)
    sqs.send_message(QueueUrl=url, MessageBody=body, **group)
    sqs.send_message(QueueUrl=url, MessageBody="second", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "k"}}, **group)
    # When they are received with every attribute
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                   MessageAttributeNames=["All"])["Messages"]
    # Then bodies, checksums and attributes are as SQS documents them
    first, second = messages
    assert first["Body"] == body and first["MD5OfBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324
    assert int(first["Attributes"]["SentTimestamp"]) > 0 and first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert ("MessageGroupId" in first["Attributes"]) == fifo and "MessageAttributes" not in first
    assert second["MessageAttributes"] == {"kind": {"StringValue": "k", "DataType": "String"}}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
