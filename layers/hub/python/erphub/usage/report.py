"""Report each closed period's total to billing and book its overage in the ERP, each once.

The schedule runs this; a period is due once its cut-off has passed. Per period, three steps, each recorded
before the next starts, so a run that fails half-way is finished by the next run without doing a step twice:
close (no record is counted any more; the total is final), report (billing's metering API, with an idempotency
key naming the period), book (the overage, beyond the included quantity, as an ERP sales order keyed by the
period). Billing and the ERP are reached through their adapters, whose reserved concurrency is each system's
throughput budget.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from erphub import adapters
from erphub.errors import HubError
from erphub.observability import emit, logger
from erphub.store.usage import UsageStore


def usage_key(total: dict[str, Any]) -> str:
    """The period's idempotency key, the same in billing and the ERP on every attempt."""
    _, system, subscription, metric = total["pk"].split("#", 3)
    return f"usage:{system}:{subscription}:{metric}:{total['sk'].removeprefix('PERIOD#')}"


def overage(total: dict[str, Any]) -> Decimal:
    included = Decimal(str(total["context"]["included"]))
    return max(Decimal(str(total.get("quantity") or 0)) - included, Decimal(0))


def report_due(as_of: datetime | None = None) -> dict[str, Any]:
    """Finish every period due by `as_of` (the schedule's time); a failing period is left for the next run."""
    store = UsageStore()
    moment = (as_of or datetime.now(UTC)).astimezone(UTC).isoformat()
    done, failed = [], []
    for total in store.due(moment):
        try:
            done.append(_finish(store, total))
        except HubError as exc:
            logger.warning("usage period not finished", extra={"period": usage_key(total), "error": repr(exc)})
            store.mark(total["pk"], total["sk"], last_error=repr(exc)[:500])
            failed.append(usage_key(total))
    emit("usage_periods", len(done), status="reported")
    emit("usage_periods", len(failed), status="failed")
    return {"as_of": moment, "reported": done, "failed": failed}


def _finish(store: UsageStore, due: dict[str, Any]) -> str:
    pk, sk, key = due["pk"], due["sk"], usage_key(due)
    total = store.close(pk, sk)
    _, system, subscription, metric = pk.split("#", 3)
    context = total["context"]
    if total["state"] == "closed":
        reported = adapters.invoke("billing", "billing.report_usage", subscription_id=subscription, metric=metric,
                                   quantity=str(total["quantity"]), period_start=sk.removeprefix("PERIOD#"),
                                   period_end=total["period_end"], idempotency_key=key, sku=context["sku"])
        store.mark(pk, sk, "reported", billing_ref=str(reported.get("reference") or ""),
                   billing_customer=str(reported["customer_id"]), currency=str(reported.get("currency") or ""))
        total = store.get(pk, sk) or total
    extra = overage(total)
    if extra > 0:
        booked = adapters.invoke("erp", "erp.book_overage", billing_system=system,
                                 billing_customer=total["billing_customer"],
                                 contract_id=context["contract_id"], entity=context["entity"], sku=context["sku"],
                                 metric=metric, quantity=str(extra), rate=context["overage_unit_price"],
                                 currency=total.get("currency") or "", period_start=sk.removeprefix("PERIOD#"),
                                 period_end=total["period_end"], idempotency_key=key)
        store.mark(pk, sk, "booked", finished=True, overage=extra, erp_ref=str(booked.get("order") or ""))
    else:
        store.mark(pk, sk, "booked", finished=True, overage=Decimal(0))
    logger.info("usage period reported", extra={"period": key, "quantity": str(total["quantity"]),
                                                "overage": str(extra)})
    return key
