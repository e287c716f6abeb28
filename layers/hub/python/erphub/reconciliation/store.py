"""Reconciliation runs in the workflow table: the run's progress (so a run cut short resumes where it stopped)
and one result per contract (so the report pages instead of growing one item past DynamoDB's 400 KB).

Items (pk, sk):
  RECON#<id>, RUN                 trigger, status, cursor (the identity table scan's next key), counts
  RECON#<id>, CONTRACT#<id>       matched / mismatched (the diff) / error, and the exceptions it opened
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.errors import Conflict, NotFound
from erphub.store.tables import from_item, query_partition, to_item, translated, workflow_table

RUNNING, COMPLETED = "running", "completed"
COUNTS = ("checked", "matched", "mismatched", "failed", "skipped", "exceptions_opened")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ReconciliationStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def create(self, reconciliation_id: str, trigger: str) -> bool:
        """False when the run exists already (the same day's schedule firing twice starts one run)."""
        try:
            with translated(f"RECON#{reconciliation_id}"):
                self.ddb.put_item(TableName=self.table, ConditionExpression="attribute_not_exists(pk)",
                                  Item=to_item({"pk": f"RECON#{reconciliation_id}", "sk": "RUN",
                                                "reconciliation_id": reconciliation_id, "trigger": trigger,
                                                "status": RUNNING, "cursor": None, "started_at": _now(),
                                                "updated_at": _now(), **{c: 0 for c in COUNTS}}))
        except Conflict:
            return False
        return True

    def run(self, reconciliation_id: str) -> dict[str, Any]:
        with translated(f"RECON#{reconciliation_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True, Key=to_item(
                {"pk": f"RECON#{reconciliation_id}", "sk": "RUN"})).get("Item")
        if not item:
            raise NotFound(f"no reconciliation {reconciliation_id}", system="hub", record=reconciliation_id)
        run = from_item(item)
        run["cursor"] = json.loads(run["cursor"]) if run.get("cursor") else None
        return {**{k: v for k, v in run.items() if k not in ("pk", "sk")}, **{c: int(run.get(c, 0)) for c in COUNTS}}

    def advance(self, reconciliation_id: str, cursor: dict[str, Any] | None, counts: dict[str, int]) -> None:
        """Progress after a page: its results are written first, so a run cut short redoes at most one page
        (which is harmless: results are keyed by contract and exceptions by mismatch)."""
        names = {"#s": "status", "#cur": "cursor", **{f"#{c}": c for c in counts}}  # CURSOR is a reserved word
        values: dict[str, Any] = {":s": RUNNING if cursor else COMPLETED, ":t": _now(),
                                  **{f":{c}": n for c, n in counts.items()}}
        adds = "".join(f", #{c} = #{c} + :{c}" for c in counts)
        update = f"SET #s = :s, updated_at = :t{adds}"
        if cursor:
            values[":c"] = json.dumps(cursor)
            update += ", #cur = :c"
        else:
            update += " REMOVE #cur"
        with translated(f"RECON#{reconciliation_id}"):
            self.ddb.update_item(TableName=self.table, Key=to_item({"pk": f"RECON#{reconciliation_id}", "sk": "RUN"}),
                                 UpdateExpression=update, ExpressionAttributeNames=names,
                                 ExpressionAttributeValues=to_item(values))

    def put_result(self, reconciliation_id: str, result: dict[str, Any]) -> None:
        with translated(f"RECON#{reconciliation_id}"):
            self.ddb.put_item(TableName=self.table, Item=to_item({
                "pk": f"RECON#{reconciliation_id}", "sk": f"CONTRACT#{result['contract_id']}", **result}))

    def results(self, reconciliation_id: str) -> list[dict[str, Any]]:
        items = query_partition(self.ddb, self.table, f"RECON#{reconciliation_id}", "CONTRACT#")
        return [{k: v for k, v in i.items() if k not in ("pk", "sk")} for i in items]
