"""A reconciliation run: active contracts page by page from the identity table, each read from billing and the
ERP through their adapters, compared (books.py), with one reconciliation_mismatch exception per mismatch.

Bounded: one invocation checks at most `budget` contracts, records its cursor after every page and hands the
rest to a fresh invocation (RECONCILER_FUNCTION); an invocation that dies (a timeout) is retried by Lambda's
asynchronous retry, or resumed by the next schedule firing, from the recorded cursor.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from erphub import adapters, aws
from erphub.errors import HubError, NotFound
from erphub.observability import logger
from erphub.reconciliation.books import Mismatch, compare, is_active
from erphub.reconciliation.invoices import compare_invoices
from erphub.reconciliation.store import COMPLETED, ReconciliationStore
from erphub.reconciliation.value import FIELD, compare_value
from erphub.settings import get_settings
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.systems import vendor

KIND, WORKFLOW = "reconciliation_mismatch", "reconciliation"
PAGE = 100  # identity items scanned per page (TERMS items are one in about six)


def daily_id(moment: datetime | None = None) -> str:
    return f"daily-{(moment or datetime.now(UTC)).date().isoformat()}"


def start(trigger: str, reconciliation_id: str | None = None) -> str:
    """Create the run (idempotent for a given id) and return its id; the caller then advances it."""
    reconciliation_id = reconciliation_id or f"ondemand-{uuid.uuid4().hex[:12]}"
    ReconciliationStore().create(reconciliation_id, trigger)
    return reconciliation_id


def hand_off(reconciliation_id: str) -> bool:
    """Continue the run in a fresh asynchronous invocation of the reconciler (False when none is configured)."""
    function = get_settings().reconciler_function
    if not function:
        return False
    aws.client("lambda").invoke(FunctionName=function, InvocationType="Event",
                                Payload=json.dumps({"reconciliation_id": reconciliation_id}).encode())
    return True


def advance(reconciliation_id: str, budget: int, time_left: Callable[[], float] = lambda: 1e9) -> dict[str, Any]:
    """Check up to `budget` contracts (page by page, while more than a minute is left); returns the run."""
    store = ReconciliationStore()
    run = store.run(reconciliation_id)
    cursor, checked = run.get("cursor"), 0
    while run["status"] != COMPLETED and checked < budget and time_left() > 60:
        contracts, cursor = _page(cursor)
        counts = {c: 0 for c in ("checked", "matched", "mismatched", "failed", "skipped", "exceptions_opened")}
        for contract_id in contracts:
            result = check(reconciliation_id, contract_id)
            counts[result["outcome"]] += 1
            counts["exceptions_opened"] += len(result.get("opened") or [])
            if result["outcome"] != "skipped":
                counts["checked"] += 1
                store.put_result(reconciliation_id, result)
        store.advance(reconciliation_id, cursor, counts)
        checked += len(contracts)
        run = store.run(reconciliation_id)
    return run


def _page(cursor: dict[str, Any] | None) -> tuple[list[str], dict[str, Any] | None]:
    """Contract ids on one page of the identity table (their TERMS items) and the next page's key."""
    identity = IdentityStore()
    kwargs: dict[str, Any] = {"TableName": identity.table, "Limit": PAGE, "ConsistentRead": True,
                              "FilterExpression": "sk = :terms", "ProjectionExpression": "pk",
                              "ExpressionAttributeValues": {":terms": {"S": "TERMS"}}}
    if cursor:
        kwargs["ExclusiveStartKey"] = cursor
    page = identity.ddb.scan(**kwargs)
    ids = [item["pk"]["S"].removeprefix("CONTRACT#") for item in page.get("Items", [])]
    return ids, page.get("LastEvaluatedKey")


def _records(identity: IdentityStore, contract_id: str, system: str, kind: str) -> tuple[dict[str, str], bool]:
    """The contract's records of one kind in one system, leaving out those a later contract (its renewal) took
    over, and whether it had any: a contract whose records were all taken over is reconciled as its renewal."""
    found, had = {}, False
    for link in identity.contract_links(contract_id):
        if link["system"] == system and link["kind"] == kind:
            had = True
            owner = identity.contract_of(system, kind, link["record_id"])
            if owner is None or owner[0] == contract_id:
                found[link["entity"]] = link["record_id"]
    return found, had


def check(reconciliation_id: str, contract_id: str) -> dict[str, Any]:
    """Reconcile one contract; an error reading one system is this contract's result, not the run's end."""
    identity = IdentityStore()
    terms = identity.terms(contract_id)
    subscriptions, subscribed = _records(identity, contract_id, vendor("billing"), "subscription")
    orders, _ = _records(identity, contract_id, vendor("erp"), "sales_order")
    if not subscriptions and (subscribed or not orders):  # renewed (its renewal is checked), or nothing linked
        return {"contract_id": contract_id, "outcome": "skipped"}
    usage = sorted(i["sku"] for i in terms.get("items") or [] if i.get("usage"))
    try:
        billing = adapters.invoke("billing", "billing.read_subscriptions", records=subscriptions, usage=usage)
        billing = billing.get("entities") or {}
        if subscriptions and not is_active(billing):
            return {"contract_id": contract_id, "outcome": "skipped"}
        erp = adapters.invoke("erp", "erp.read_orders", records=orders, usage=usage).get("entities") or {}
        invoiced = _invoice_mismatches(contract_id, subscriptions)
        valued, not_compared = _value_mismatches(contract_id, terms)
    except HubError as error:
        logger.warning("reconciliation read failed", extra={"contract_id": contract_id, "error": error.to_dict()})
        return {"contract_id": contract_id, "outcome": "failed", "error": str(error)}
    mismatches = compare(contract_id, terms, billing, erp) + invoiced + valued
    opened = [e for e in (open_exception(reconciliation_id, m) for m in mismatches) if e]
    return {"contract_id": contract_id, "outcome": "mismatched" if mismatches else "matched",
            "mismatches": [m.model_dump() | {"exception_id": exception_id(m)} for m in mismatches], "opened": opened,
            **({"not_compared": not_compared} if not_compared else {})}


def _value_mismatches(contract_id: str, terms: dict[str, Any]) -> tuple[list[Mismatch], list[dict[str, str]]]:
    """The contract's value against the CRM's deal of the version the hub applied (reconciliation/value.py); a
    comparison that could not be made is reported with its reason, not as a mismatch."""
    if not terms or not get_settings().crm_adapter_function:
        return [], [{"field": FIELD, "reason": "no CRM adapter configured" if terms else "no terms recorded"}]
    try:  # the CRM being down must not hide billing's or the ERP's drift: this one comparison waits
        read = adapters.invoke("crm", "crm.read_deal_value", contract_id=contract_id,
                               version=terms.get("version") or 1)
    except HubError as error:
        logger.warning("CRM read failed", extra={"contract_id": contract_id, "error": error.to_dict()})
        return [], [{"field": FIELD, "reason": f"the CRM could not be read: {error}"}]
    if read.get("ambiguous"):
        return [], [{"field": FIELD, "reason": f"several deals of version {terms.get('version')}: "
                                               f"{', '.join(read['ambiguous'])}"}]
    found, reason = compare_value(contract_id, terms, read.get("deal"))
    return found, [{"field": FIELD, "reason": reason}] if reason else []


def _invoice_mismatches(contract_id: str, subscriptions: dict[str, str]) -> list[Mismatch]:
    """The contract's billing invoices against their ERP postings (reconciliation/invoices.py)."""
    if not subscriptions:
        return []
    billed = adapters.invoke("billing", "billing.read_invoices", records=subscriptions).get("entities") or {}
    ids = sorted(i["invoice_id"] for invoices in billed.values() for i in invoices)
    if not ids:
        return []
    posted = adapters.invoke("erp", "erp.read_invoices", invoices=ids, billing_system=vendor("billing"))
    return compare_invoices(contract_id, billed, posted.get("invoices") or {}, datetime.now(UTC))


def exception_id(mismatch: Mismatch) -> str:
    return WorkflowStore.exception_id_for(KIND, mismatch.key)


def open_exception(reconciliation_id: str, mismatch: Mismatch) -> str | None:
    """One exception per mismatch: the same diff found again (tomorrow, or by a resumed run) while its exception
    is open opens nothing; once an operator resolved it, drift found again opens it again."""
    store = WorkflowStore()
    try:
        if store.exception(exception_id(mismatch)).get("status") in ("open", "acting"):  # not yet resolved
            return None
    except NotFound:
        pass
    event = {"business_key": mismatch.contract_id, "data": {"contract_id": mismatch.contract_id}}
    return store.open_exception(mismatch.contract_id, WORKFLOW, KIND, mismatch.describe(), seed=mismatch.key,
                                detail={"event": event, "mismatch": mismatch.model_dump(),
                                        "reconciliation_id": reconciliation_id})
