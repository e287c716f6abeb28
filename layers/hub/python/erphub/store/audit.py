"""The audit trail of operator actions, kept with the run each one touched.

Items (pk, sk):
  AUDIT#<correlation id>, <at>#<audit id>   who, when, what (action, exception), before/after, note
A run's trail is one query; the trail of one exception is that query filtered by its id.
"""

from __future__ import annotations

import uuid
from typing import Any

from erphub import aws
from erphub.store.tables import query_partition, to_item, translated, workflow_table


class AuditStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def put(self, entry: dict[str, Any]) -> str:
        audit_id = entry.get("audit_id") or uuid.uuid4().hex
        item = {**entry, "audit_id": audit_id, "pk": f"AUDIT#{entry['correlation_id']}",
                "sk": f"{entry['at']}#{audit_id}"}
        with translated(f"AUDIT#{entry['correlation_id']}"):
            self.ddb.put_item(TableName=self.table, Item=to_item(item),
                              ConditionExpression="attribute_not_exists(pk)")
        return str(audit_id)

    def of_run(self, correlation_id: str) -> list[dict[str, Any]]:
        """Oldest first (the sort key starts with the time)."""
        return query_partition(self.ddb, self.table, f"AUDIT#{correlation_id}")
