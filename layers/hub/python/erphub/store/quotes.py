"""Quotes submitted for approval through the synchronous API, in the workflow table:
  QUOTE#<quote id>, STATUS    the submission (its content hash), state, reasons and the approval exception
A quote is decided once: submitting other content for a decided quote is a Conflict (a new quote id is a new
quote); submitting the same content again answers the stored state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.store.tables import from_item, to_item, translated, workflow_table


class QuoteStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def get(self, quote_id: str) -> dict[str, Any] | None:
        with translated(f"QUOTE#{quote_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": f"QUOTE#{quote_id}", "sk": "STATUS"})).get("Item")
        return from_item(item) if item else None

    def put_undecided(self, quote_id: str, values: dict[str, Any]) -> None:
        """Write a submission unless the quote was decided meanwhile (Conflict then)."""
        now = datetime.now(UTC).isoformat()
        item = {**values, "pk": f"QUOTE#{quote_id}", "sk": "STATUS", "quote_id": quote_id, "updated_at": now,
                "submitted_at": values.get("submitted_at") or now}
        with translated(f"QUOTE#{quote_id}"):
            self.ddb.put_item(TableName=self.table, Item=to_item(item),
                              ConditionExpression="attribute_not_exists(pk) OR #s IN (:fix, :pending)",
                              ExpressionAttributeNames={"#s": "state"},
                              ExpressionAttributeValues=to_item({":fix": "needs_fixes",
                                                                 ":pending": "pending_approval"}))

    def decide(self, quote_id: str, state: str, by: str, note: str) -> None:
        with translated(f"QUOTE#{quote_id}"):
            self.ddb.update_item(TableName=self.table, Key=to_item({"pk": f"QUOTE#{quote_id}", "sk": "STATUS"}),
                                 UpdateExpression="SET #s = :s, decided_by = :by, decision_note = :n, updated_at = :t",
                                 ConditionExpression="#s = :pending", ExpressionAttributeNames={"#s": "state"},
                                 ExpressionAttributeValues=to_item({":s": state, ":by": by, ":n": note or "-",
                                                                    ":t": datetime.now(UTC).isoformat(),
                                                                    ":pending": "pending_approval"}))
