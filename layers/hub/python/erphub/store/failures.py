"""Why a queue message failed: one record per message in the workflow table, kept next to the exceptions.

Items (pk, sk):
  FAIL#<queue name>, MSG#<message id>   the latest error (type, message), how many receives and failed
                                         attempts, and, once it is dead-lettered, where it went and the
                                         exception opened for it

Keyed by queue so that an operator looking at a DLQ can list why each of its messages failed
(`failures_of(queue)`); a message dead-lettered by the consumer carries its source message id as a
message attribute, one moved by SQS's own redrive keeps its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.store.tables import from_item, query_partition, to_item, translated, workflow_table


@dataclass(frozen=True)
class MessageFailure:
    queue: str
    message_id: str
    error_type: str
    error: str
    receive_count: int
    consumer: str
    correlation_id: str = ""


class FailureStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def record(self, failure: MessageFailure) -> None:
        """Keep the latest error of this message and count its failed attempts."""
        now = datetime.now(UTC).isoformat()
        fields = {"queue": failure.queue, "message_id": failure.message_id, "error_type": failure.error_type,
                  "error": failure.error, "receive_count": failure.receive_count, "consumer": failure.consumer,
                  "correlation_id": failure.correlation_id or None, "last_failed_at": now}
        fields = {k: v for k, v in fields.items() if v is not None}
        # every name through #placeholders: some (error, queue) may be DynamoDB reserved words
        sets = [f"#{k} = :{k}" for k in fields] + ["#first = if_not_exists(#first, :last_failed_at)"]
        with translated(f"FAIL#{failure.queue} {failure.message_id}"):
            self.ddb.update_item(TableName=self.table, Key=_key(failure.queue, failure.message_id),
                                 UpdateExpression=f"SET {', '.join(sets)} ADD #attempts :one",
                                 ExpressionAttributeNames={**{f"#{k}": k for k in fields},
                                                           "#first": "first_failed_at", "#attempts": "attempts"},
                                 ExpressionAttributeValues=to_item({**{f":{k}": v for k, v in fields.items()},
                                                                    ":one": 1}))

    def mark_dead_lettered(self, queue: str, message_id: str, dead_letter_queue: str, exception_id: str,
                           dead_letter_message_id: str = "") -> None:
        with translated(f"FAIL#{queue} {message_id}"):
            self.ddb.update_item(
                TableName=self.table, Key=_key(queue, message_id),
                UpdateExpression="SET dead_letter_queue = :d, exception_id = :x, dead_lettered_at = :now"
                                 + (", dead_letter_message_id = :dm" if dead_letter_message_id else ""),
                ExpressionAttributeValues=to_item({":d": dead_letter_queue, ":x": exception_id,
                                                   ":now": datetime.now(UTC).isoformat(),
                                                   ":dm": dead_letter_message_id or None}))

    def failure(self, queue: str, message_id: str) -> dict[str, Any] | None:
        with translated(f"FAIL#{queue} {message_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=_key(queue, message_id)).get("Item")
        return from_item(item) if item else None

    def failures_of(self, queue: str) -> list[dict[str, Any]]:
        """Every recorded failure of a queue's messages, oldest first."""
        found = query_partition(self.ddb, self.table, f"FAIL#{queue}", "MSG#")
        return sorted(found, key=lambda f: f["first_failed_at"])


def _key(queue: str, message_id: str) -> dict[str, Any]:
    return to_item({"pk": f"FAIL#{queue}", "sk": f"MSG#{message_id}"})
