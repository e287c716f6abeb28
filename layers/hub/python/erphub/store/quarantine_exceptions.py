"""The exception a quarantined webhook opens (kind `quarantine`), kept in the workflow table like every other
exception (EXC#<id>, EXC, and the run's pointer), but opened and closed with conditions, because the stream that
opens it delivers at least once and may come after the replay that resolves it:

- `open_once` writes it only if no item has that id yet: a redelivered record reopens nothing;
- `close` resolves it if it is open; if it was never opened (the replay came first), it leaves a closed one, so a
  late stream record finds the id taken and opens nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.errors import Conflict
from erphub.observability import emit_safely
from erphub.store.tables import to_item, translated, workflow_table

CLOSED = "closed"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class QuarantineExceptions:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def open_once(self, exception: dict[str, Any]) -> bool:
        """`exception`: the EXC item's fields (exception_id, correlation_id, kind, reason, detail, ...). False if an
        item with that id exists (opened before, or closed by a replay that came first)."""
        exception_id = exception["exception_id"]
        if not self._put_new({**exception, "status": "open", "opened_at": _now()}):
            return False
        with translated(f"RUN#{exception['correlation_id']}"):  # the run's pointer, as open_exception writes it
            self.ddb.put_item(TableName=self.table, Item=to_item({
                "pk": f"RUN#{exception['correlation_id']}", "sk": f"EXC#{exception_id}", "exception_id": exception_id}))
        emit_safely("exceptions_opened", kind=exception["kind"])
        return True

    def close(self, exception: dict[str, Any], resolution: str, actor: str) -> bool:
        """Resolve the open exception with `resolution`; True if this call resolved it. One never opened is
        written closed (so it is never opened later); one resolved already is left as it is."""
        exception_id = exception["exception_id"]
        values = {":closed": CLOSED, ":r": resolution, ":by": actor, ":t": _now(), ":open": "open"}
        try:
            with translated(f"EXC#{exception_id}"):
                self.ddb.update_item(
                    TableName=self.table, Key=to_item({"pk": f"EXC#{exception_id}", "sk": "EXC"}),
                    UpdateExpression="SET #s = :closed, resolution = :r, resolved_by = :by, resolved_at = :t, "
                                     "closed_at = :t",
                    ConditionExpression="#s = :open", ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues=to_item(values))
            return True
        except Conflict:
            pass
        now = _now()
        self._put_new({**exception, "status": CLOSED, "opened_at": now, "resolution": resolution,
                       "resolved_by": actor, "resolved_at": now, "closed_at": now})
        return False

    def _put_new(self, exception: dict[str, Any]) -> bool:
        item = {"pk": f"EXC#{exception['exception_id']}", "sk": "EXC", **exception}
        try:
            with translated(item["pk"]):
                self.ddb.put_item(TableName=self.table, Item=to_item(item),
                                  ConditionExpression="attribute_not_exists(pk)")
        except Conflict:
            return False
        return True
