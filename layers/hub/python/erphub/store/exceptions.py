"""The operator's side of the exception items (EXC#<id>, EXC in the workflow table; opened by
WorkflowStore.open_exception): claiming one for an action so it acts exactly once, resolving it, reassigning it,
commenting on it, listing them.

Status: open -> acting (one operator's action claimed it) -> resolved; a claim whose action failed before it
reached the workflow goes back to open. A claim older than CLAIM_STALE_SECONDS (the acting process died) may be
taken again. "closed" is the status older records carry for resolved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from erphub import aws
from erphub.errors import Conflict, NotFound
from erphub.store.tables import from_item, to_item, translated, workflow_table

OPEN, ACTING, RESOLVED = "open", "acting", "resolved"
CLAIM_STALE_SECONDS = 300


def now() -> str:
    return datetime.now(UTC).isoformat()


class ExceptionStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def get(self, exception_id: str) -> dict[str, Any]:
        with translated(f"EXC#{exception_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True, Key=_key(exception_id)).get("Item")
        if item is None:
            raise NotFound(f"no exception {exception_id}", system="hub", record=exception_id)
        return from_item(item)

    def all(self) -> list[dict[str, Any]]:
        """Every exception, oldest first: a scan, as operators list them rarely and there are few."""
        found: list[dict[str, Any]] = []
        with translated("exceptions"):
            for page in self.ddb.get_paginator("scan").paginate(
                    TableName=self.table, FilterExpression="sk = :exc",
                    ExpressionAttributeValues={":exc": {"S": "EXC"}}):
                found += [from_item(i) for i in page["Items"]]
        return sorted(found, key=lambda e: e.get("opened_at", ""))

    def claim(self, exception_id: str, action: str, actor: str) -> dict[str, Any]:
        """Take the open exception for one action; a second claim (a double click, a concurrent operator) is a
        Conflict. Returns the exception as it was before the claim."""
        before = self.get(exception_id)
        stale = (datetime.now(UTC) - timedelta(seconds=CLAIM_STALE_SECONDS)).isoformat()
        try:
            self._update(exception_id, "SET #s = :acting, claim_action = :a, claimed_by = :by, claimed_at = :t",
                         {":acting": ACTING, ":a": action, ":by": actor, ":t": now(), ":open": OPEN,
                          ":stale": stale},
                         condition="#s = :open OR (#s = :acting AND claimed_at < :stale)")
        except Conflict:
            current = self.get(exception_id)
            raise Conflict(f"exception {exception_id} is {current.get('status')}"
                           + (f" ({current.get('resolution')})" if current.get("resolution") else ""),
                           system="hub", record=exception_id) from None
        return before

    def release(self, exception_id: str) -> None:
        """The claimed action did not happen: the exception is open again."""
        self._update(exception_id, "SET #s = :open REMOVE claim_action, claimed_by, claimed_at",
                     {":open": OPEN, ":acting": ACTING}, condition="#s = :acting")

    def resolve(self, exception_id: str, *, action: str, actor: str, resolution: str, note: str = "",
                outcome: dict[str, Any] | None = None) -> None:
        values = {":r": RESOLVED, ":a": action, ":by": actor, ":res": resolution, ":t": now(),
                  ":note": note or "", ":out": outcome or {}, ":acting": ACTING}
        self._update(exception_id, "SET #s = :r, resolved_action = :a, resolved_by = :by, resolution = :res, "
                     "resolved_at = :t, closed_at = :t, note = :note, outcome = :out "
                     "REMOVE claim_action, claimed_by, claimed_at", values, condition="#s = :acting")

    def expire(self, exception_id: str, resolution: str) -> bool:
        """The workflow stopped waiting on this open exception (it timed out or failed): nobody can act on it any
        more. False if it was not open."""
        try:
            self._update(exception_id, "SET #s = :r, resolution = :res, resolved_by = :by, resolved_at = :t, "
                         "closed_at = :t", {":r": RESOLVED, ":res": resolution, ":by": "hub", ":t": now(),
                                            ":open": OPEN}, condition="#s = :open")
        except Conflict:
            return False
        return True

    def assign(self, exception_id: str, owner: str) -> None:
        self._update(exception_id, "SET #o = :o, assigned_at = :t", {":o": owner, ":t": now()},
                     names={"#o": "owner"}, condition="attribute_exists(pk)")

    def comment(self, exception_id: str, author: str, text: str) -> None:
        entry = [{"by": author, "at": now(), "text": text}]
        self._update(exception_id, "SET comments = list_append(if_not_exists(comments, :none), :c)",
                     {":c": entry, ":none": []}, condition="attribute_exists(pk)")

    def mark_overdue(self, exception_id: str) -> bool:
        """Escalate once: False if it was already marked (or is no longer open)."""
        try:
            self._update(exception_id, "SET overdue_at = :t", {":t": now(), ":open": OPEN},
                         condition="#s = :open AND attribute_not_exists(overdue_at)")
        except Conflict:
            return False
        return True

    def _update(self, exception_id: str, expression: str, values: dict[str, Any], *, condition: str,
                names: dict[str, str] | None = None) -> None:
        attribute_names = {"#s": "status"} if "#s" in expression + condition else {}
        with translated(f"EXC#{exception_id}"):
            self.ddb.update_item(TableName=self.table, Key=_key(exception_id), UpdateExpression=expression,
                                 ConditionExpression=condition,
                                 ExpressionAttributeNames={**attribute_names, **(names or {})},
                                 ExpressionAttributeValues=to_item(values))


def _key(exception_id: str) -> dict[str, Any]:
    return to_item({"pk": f"EXC#{exception_id}", "sk": "EXC"})
