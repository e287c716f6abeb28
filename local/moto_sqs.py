"""SQS ReceiveMessage in the embedded AWS answers its messages' JSON as is, for the JSON protocol boto3 speaks.

moto 5.2.5 hands the messages to its generic response serializer, which looks every field up through
several alias layers: profiled while the publisher drained a backlog, ~20 % of the local stack's CPU went
there (issue 13), for messages that are already the wire shape (strings, and a map of strings for the
system attributes). A message with message attributes, or a request in the query (XML) protocol, still
goes through moto's serializer, which owns those encodings.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_sqs_guard.py fails loudly if
what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import json
from typing import Any

MARK = "__erphub_plain_json__"
_PLAIN_FIELDS = {"MessageId", "ReceiptHandle", "MD5OfBody", "Body", "Attributes"}


def handler() -> Any:
    from moto.sqs.responses import SQSResponse

    return SQSResponse


def check_compatible() -> None:
    method = handler().receive_message
    source = inspect.getsource(getattr(method, MARK, method))
    if 'result = {"Messages": msgs} if msgs else {}' not in source or "return ActionResult(result)" not in source:
        raise RuntimeError("moto SQSResponse.receive_message no longer answers {'Messages': [...]} as an ActionResult")


def install() -> None:
    """Idempotent; process-wide (moto's response class is)."""
    cls = handler()
    if getattr(cls.receive_message, MARK, None) is not None:
        return
    check_compatible()
    cls.receive_message = _plain_json(cls.receive_message)


def _plain_json(original: Any) -> Any:
    @functools.wraps(original)
    def receive_message(self: Any) -> Any:
        answer = original(self)
        target = self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target") or ""
        if not target.startswith("AmazonSQS."):
            return answer  # the query protocol answers XML
        messages = answer.result.get("Messages", [])
        if any(set(m) - _PLAIN_FIELDS for m in messages):
            return answer
        return json.dumps(answer.result), {"Content-Type": "application/x-amz-json-1.0"}

    setattr(receive_message, MARK, original)
    return receive_message
