"""Quarantined webhooks are owned exceptions with an SLA (issue 9): each opens one exception of kind `quarantine`
(owner and SLA in config/exception_kinds.json), listed in the inbox beside the others, notified and swept for its
SLA like them; repairing and replaying the webhook resolves it, once.

Opened off the ack path: the publisher maps each received webhook (erphub.ingest.mapping) and, when its content
cannot be mapped, opens the exception in the workflow table before it marks the inbox item quarantined; the
exception item's own stream record is then the `hub.exception.opened` notification. An item quarantined later by
the outbox (unpublishable) has its `outbox_unpublishable` exception instead, which a replay of that item resolves.
"""

from __future__ import annotations

from typing import Any

from erphub.observability import logger
from erphub.publishing import UNPUBLISHABLE_KIND
from erphub.store.quarantine_exceptions import QuarantineExceptions
from erphub.store.workflow_state import WorkflowStore

KIND = "quarantine"
WORKFLOW = "ingest"


def exception_id(key: str) -> str:
    return WorkflowStore.exception_id_for(KIND, f"quarantine:{key}")


def open_for(item: dict[str, str], reason: str) -> str:
    """The exception of a webhook the publisher quarantines (`item`: the inbox item's text attributes), opened once;
    returns its id."""
    key = item["pk"]
    opened = QuarantineExceptions().open_once(_exception(key, {**item, "reason": reason}))
    logger.info("quarantined webhook reported", extra={"key": key, "opened": opened})
    return exception_id(key)


def _exception(key: str, item: dict[str, Any]) -> dict[str, Any]:
    detail = {"inbox_key": key, "source": item.get("source"), "source_event_id": item.get("source_event_id"),
              "vendor_type": item.get("vendor_type"), "event_id": item.get("event_id"),
              "received_at": item.get("received_at"), "business_key": item.get("business_key") or None}
    return {"exception_id": exception_id(key), "correlation_id": str(item.get("correlation_id") or key),
            "workflow": WORKFLOW, "kind": KIND, "reason": str(item.get("reason") or "quarantined")[:1000],
            "detail": {k: v for k, v in detail.items() if v is not None}}


def resolve_replayed(key: str, item: dict[str, Any], resolution: str, actor: str) -> dict[str, Any] | None:
    """After a replay of the quarantined webhook `key` (whose inbox item was `item` before it): resolve its open
    exception — the `quarantine` one, or the `outbox_unpublishable` one of an item the outbox quarantined.
    Returns the exception as it was before, if this call resolved it (the caller audits it)."""
    store, exceptions = WorkflowStore(), QuarantineExceptions()
    unpublishable = store.exception_id_for(UNPUBLISHABLE_KIND, f"outbox:{key}")
    for candidate in (exception_id(key), unpublishable):
        before = _existing(store, candidate)
        if before is not None and before.get("status") == "open":
            return before if exceptions.close(before, resolution, actor) else None
    if _existing(store, unpublishable) is None:  # never opened yet: closed now, so the stream opens none later
        exceptions.close(_exception(key, {**item, "pk": key}), resolution, actor)
    return None


def _existing(store: WorkflowStore, exception_id_: str) -> dict[str, Any] | None:
    from erphub.errors import NotFound

    try:
        return store.exception(exception_id_)
    except NotFound:
        return None


def replay(exception_id_: str, *, by: str, note: str = "") -> dict[str, Any]:
    """The `replay` action of a quarantine exception: map the stored body again (after a mapping fix) and replay
    it once; claimed like every action, so it resolves the exception exactly once. Still unmappable: 422, the
    exception stays open (replay it with corrected fields from the quarantine page instead)."""
    from erphub.operations import quarantine
    from erphub.workflows import operator

    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        done = quarantine.renormalize(str((exception.get("detail") or {}).get("inbox_key")), by)
        return f"replayed ({done.repair}) by {done.replayed_by}", done.model_dump(mode="json")

    return operator.act(exception_id_, "replay", by, note, perform)
