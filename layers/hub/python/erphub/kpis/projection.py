"""From the events of record to the KPI projection: one function per kind of record, each idempotent.

The inbox stream says what arrived (a webhook's outcome per source, when it reached the bus; a closed-won deal,
an invoice, a payment that now waits for the ERP). The workflow table's stream says what the hub did about it
(a sales order, invoice or payment created in the ERP; a run's status; an exception opened and resolved).
"""

from __future__ import annotations

import json
import re
from typing import Any

from erphub.kpis import cycle
from erphub.kpis.store import KpiStore, seconds_between
from erphub.store import raw_bodies
from erphub.store.inbox import ACCEPTED, PUBLISHED, QUARANTINED, RECEIVED
from erphub.store.run_status import STATUS_PREFIX
from erphub.store.tables import from_item
from erphub.workflows.systems import VENDORS

# gauges (tracks) and facts, as docs/kpis.md defines them
ORDER, INVOICE, PAYMENT, EXCEPTION, RUN = "order_posting", "invoice_sync", "payment_sync", "exception", "run"
WEBHOOK, EVENT_LAG, POSTED, EXC_OPENED, EXC_RESOLVED, RUN_ENDED, FAILED_DELIVERY = (
    "webhook", "event_lag", "posted", "exception_opened", "exception_resolved", "run_ended", "failed_delivery")
ENDED = {"completed", "failed", "refused"}
ABANDONED = "OperatorAbandoned"  # the error an operator's abandon ends a run with (workflows/actions/outcome.py)
_RETRY = re.compile(r":retry\d+$")
OPEN_EXCEPTION = {"open", "acting"}
# what an accepted event starts waiting for, and under which id its ERP record will close it
_WAITS = {"crm.opportunity.closed_won": ORDER, "billing.invoice.finalized": INVOICE, "billing.invoice.paid": INVOICE,
          "billing.payment.succeeded": PAYMENT}
_ERP_KINDS = {"sales_order": ORDER, "invoice": INVOICE, "payment": PAYMENT}


def apply(record: dict[str, Any], store: KpiStore) -> None:
    """Project one DynamoDB stream record of the inbox or the workflow table; removals change nothing."""
    new = record.get("dynamodb", {}).get("NewImage")
    if record.get("eventName") == "REMOVE" or not new:
        return
    image = _plain(new)
    old = _plain(record["dynamodb"].get("OldImage") or {})
    if "sk" not in image:
        _inbox(image, old, store)
    elif str(image["pk"]).startswith("EXC#"):
        _exception(image, store)
    elif str(image["pk"]).startswith("RUN#"):
        _run(image, old, store)
    elif str(image["pk"]).startswith("FAIL#"):
        _failed_delivery(image, old, store)


def _plain(image: dict[str, Any]) -> dict[str, Any]:
    """The image without its binary attributes (a stream record carries them base64-encoded; none is needed here)."""
    return from_item({k: v for k, v in image.items() if "B" not in v and "BS" not in v})


def _inbox(item: dict[str, Any], old: dict[str, Any], store: KpiStore) -> None:
    at, key, status = item["received_at"], item["pk"], item["status"]
    if status == RECEIVED:
        return  # stored by the ack path; its outcome is known once the publisher has mapped it
    if old.get("status") == RECEIVED or not old:
        # mapped (an item written before mapping moved to the publisher: its first write); a replay of a repaired
        # quarantine keeps this first outcome
        store.fact(WEBHOOK, at, key, source=item["source"], outcome=ACCEPTED if status == PUBLISHED else status)
        _start_waiting(item, store)
    elif old.get("status") == QUARANTINED and item.get("event"):  # repaired: now it waits like any other
        _start_waiting(item, store)
    if status == PUBLISHED and item.get("published_at") and not old.get("published_at"):
        store.fact(EVENT_LAG, item["published_at"], key, source=item["source"],
                   seconds=seconds_between(at, item["published_at"]))


def _start_waiting(item: dict[str, Any], store: KpiStore) -> None:
    gauge = _WAITS.get(item.get("event_type", ""))
    if gauge is None or not item.get("event"):
        return
    if gauge == ORDER:
        item_id = item["correlation_id"]
        if item.get("business_key"):  # the contract (the opportunity) is won: its order-to-cash cycle starts
            cycle.won(item["business_key"], item["received_at"], store)
    else:
        data = raw_bodies.resolve_event(json.loads(item["event"])).get("data") or {}
        record = data.get("invoice_id") if gauge == INVOICE else data.get("payment_id")
        if not record:
            return
        item_id = f"{item['source']}:{record}"
    done = store.open(gauge, item_id, item["received_at"], source=item["source"])
    if done and done.get("closed_at"):  # the ERP record was seen first
        _posted(gauge, item_id, done, store)


def _run(item: dict[str, Any], old: dict[str, Any], store: KpiStore) -> None:
    correlation_id = str(item["pk"]).removeprefix("RUN#")
    sk = str(item["sk"])
    if sk == "STATUS" or sk.startswith(STATUS_PREFIX):  # one status item per run (store/run_status.py)
        if _still_open(old, item):
            return  # a step's progress: the record that first showed the run open has opened its track
        _run_status(correlation_id, f"{correlation_id}:{sk}", item, store)
    elif sk.startswith("REC#") and item.get("kind") in _ERP_KINDS and _is_erp(item):
        gauge = _ERP_KINDS[item["kind"]]
        # a retry is a new run ("<first>:retry<n>", operations/retries.py) of the same deal
        item_id = _RETRY.sub("", correlation_id) if gauge == ORDER else correlation_id.removeprefix("posting:")
        track = store.close(gauge, item_id, item["at"], system=item["system"])
        if track.get("opened_at"):
            _posted(gauge, item_id, track, store)
        _cycle(item, store)


def _still_open(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A run already open before this record and still open after it: its track is open (stream records of one
    item arrive in order, and a failing batch is retried, then kept in the projector's failure queue)."""
    return bool(old.get("status")) and old["status"] not in ENDED and new.get("status") not in ENDED


def _cycle(record: dict[str, Any], store: KpiStore) -> None:
    """An ERP posting the ledger linked to a contract (erp_ledger.py) is an order-to-cash milestone."""
    contract = record.get("contract_id")
    if not contract:
        return
    if record["kind"] == "invoice":
        cycle.invoiced(contract, record["key"], record["at"], store)
    elif record["kind"] == "payment" and record.get("invoice_id"):
        cycle.paid(contract, record["invoice_id"], record["at"], store)


def _is_erp(record: dict[str, Any]) -> bool:
    return str(record.get("system")) in VENDORS["erp"]


def _posted(gauge: str, item_id: str, track: dict[str, Any], store: KpiStore) -> None:
    store.fact(POSTED, track["closed_at"], f"{gauge}:{item_id}", gauge=gauge, system=track.get("system", ""),
               source=track.get("source", ""), seconds=seconds_between(track["opened_at"], track["closed_at"]))


def _run_status(correlation_id: str, run_id: str, item: dict[str, Any], store: KpiStore) -> None:
    workflow, status = item.get("workflow", ""), item.get("status", "")
    if status not in ENDED:
        store.open(RUN, run_id, item.get("started_at") or item["updated_at"], workflow=workflow)
        return
    track = store.close(RUN, run_id, item["updated_at"], workflow=workflow, status=status)
    started = item.get("started_at") or track.get("opened_at") or track["closed_at"]
    store.fact(RUN_ENDED, track["closed_at"], run_id, workflow=workflow, status=status,
               seconds=seconds_between(started, track["closed_at"]))
    given_up = status == "refused" or str(item.get("reason") or "").startswith(ABANDONED)
    if workflow == "activation" and given_up:  # a refused or abandoned deal is no order any more
        store.close(ORDER, _RETRY.sub("", correlation_id), track["closed_at"], system="", outcome=status)


def _exception(item: dict[str, Any], store: KpiStore) -> None:
    exception_id, kind, opened = item["exception_id"], item.get("kind", ""), item["opened_at"]
    facts = {"kind": kind, "correlation_id": item.get("correlation_id", ""), "workflow": item.get("workflow", "")}
    store.fact(EXC_OPENED, opened, exception_id, **facts)
    if item.get("status") in OPEN_EXCEPTION:
        store.open(EXCEPTION, exception_id, opened, **facts)
        return
    closed = item.get("resolved_at") or item.get("closed_at") or opened
    store.close(EXCEPTION, exception_id, closed)
    store.fact(EXC_RESOLVED, closed, exception_id, **facts, resolution=item.get("resolution", ""),
               seconds=seconds_between(opened, closed))


def _failed_delivery(item: dict[str, Any], old: dict[str, Any], store: KpiStore) -> None:
    """A queue message's failed attempt (store/failures.py counts them): each is a delivery SQS retries (or, at the
    end, dead-letters); keyed by the attempt's number, so a redelivered record counts it once."""
    attempts = int(item.get("attempts") or 0)
    if attempts <= int(old.get("attempts") or 0):
        return  # a dead-letter mark, not a new attempt
    store.fact(FAILED_DELIVERY, item["last_failed_at"], f"{item['queue']}:{item['message_id']}:{attempts}",
               queue=item["queue"], consumer=item.get("consumer", ""), error_type=item.get("error_type", ""))
