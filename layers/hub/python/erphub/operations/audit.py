"""Every operator action, recorded with the run it touched: who, when, what, before/after, note.

`record` is called by every acting route (erphub.workflows.operator.act does it for the exception actions);
`of_run` and `of_exception` are what the API shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from erphub.store.audit import AuditStore

# what of an exception an audit entry keeps as before/after (not the payload or the task token)
_SNAPSHOT = ("status", "owner", "resolution", "resolved_by", "note", "comments_count",
             # recovery actions (quarantine replay, DLQ redrive/purge, archive replay): what they changed
             "reason", "depth", "state")


def record(actor: str, action: str, before: dict[str, Any], after: dict[str, Any], *, note: str = "",
           outcome: dict[str, Any] | None = None, correlation_id: str | None = None) -> str:
    """One audit entry; `before`/`after` are the touched exception (or any record with a correlation_id)."""
    entry = {"at": datetime.now(UTC).isoformat(), "actor": actor, "action": action,
             "exception_id": before.get("exception_id") or after.get("exception_id"),
             "correlation_id": correlation_id or before.get("correlation_id") or after.get("correlation_id"),
             "workflow": before.get("workflow"), "kind": before.get("kind"),
             "before": snapshot(before), "after": snapshot(after), "note": note or None, "outcome": outcome or None}
    return AuditStore().put({k: v for k, v in entry.items() if v is not None})


def snapshot(record: dict[str, Any]) -> dict[str, Any]:
    shown = {**record, "comments_count": len(record.get("comments") or [])}
    return {k: shown[k] for k in _SNAPSHOT if shown.get(k) not in (None, "")}


def of_run(correlation_id: str) -> list[dict[str, Any]]:
    return AuditStore().of_run(correlation_id)


def of_exception(exception: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in of_run(exception["correlation_id"]) if e.get("exception_id") == exception["exception_id"]]
