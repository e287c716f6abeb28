"""Hub actions: the data-quality gate, the approval gate and stale-amendment refusal.

Gates answer; the state machine waits on a task token when they say so (an operator fixes or approves).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from erphub.operations import kinds
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run, entities


def catalog() -> set[str]:
    """The sellable SKUs (PRODUCT_CATALOG, comma separated); empty means every SKU is accepted."""
    return {s.strip() for s in os.environ.get("PRODUCT_CATALOG", "").split(",") if s.strip()}


def subsidiary_currencies() -> dict[str, str]:
    """SUBSIDIARY_CURRENCIES=US01:USD,DE01:EUR - the currency each ERP subsidiary books in."""
    pairs = (p.split(":", 1) for p in os.environ.get("SUBSIDIARY_CURRENCIES", "").split(",") if ":" in p)
    return {sub.strip(): cur.strip().upper() for sub, cur in pairs}


@action("quality.check")
def check_quality(run: Run) -> dict[str, Any]:
    """Missing tax id, unknown product, currency mismatch -> issues an operator must fix before billing."""
    contract, issues = run.contract, []
    if not contract.currency:
        issues.append("the deal has no currency")
    for entity in entities(contract):
        if not entity.tax_id:
            issues.append(f"legal entity {entity.entity_id} ({entity.name}) has no tax id")
        booked_in = subsidiary_currencies().get(entity.subsidiary or "")
        currency = entity.currency or contract.currency
        if booked_in and currency and currency != booked_in:
            issues.append(f"legal entity {entity.entity_id} bills in {currency}, its subsidiary {entity.subsidiary} "
                          f"books in {booked_in}")
    known = catalog()
    issues += [f"unknown product {item.sku}" for item in contract.items if known and item.sku not in known]
    if not contract.items:
        issues.append("the deal has no line items")
    return {"ok": not issues, "issues": issues}


@action("approval.evaluate")
def evaluate_approval(run: Run) -> dict[str, Any]:
    """Deals above APPROVAL_THRESHOLD or with non-standard terms need an approver (within the timeout)."""
    contract, reasons = run.contract, []
    threshold = Decimal(os.environ.get("APPROVAL_THRESHOLD", "500000"))
    if contract.amount is not None and contract.amount > threshold:
        reasons.append(f"deal value {contract.amount} {contract.currency} is over {threshold}")
    if contract.non_standard_terms:
        reasons.append("non-standard terms")
    return {"required": bool(reasons), "reasons": reasons, **approval_bounds()}


def approval_bounds() -> dict[str, int]:
    """The approval wait's TimeoutSeconds/HeartbeatSeconds (AwaitApproval reads them from $.approval): the
    approval kind's in config/exception_kinds.json; a stage may shorten them (ApprovalTimeoutSeconds,
    ApprovalHeartbeatSeconds; 0 keeps the kind's), never lengthen them past the owner's SLA rules."""
    kind = kinds.of("approval")
    timeout = _shortened(int(kind.wait_timeout_seconds or 0), "APPROVAL_TIMEOUT_SECONDS")
    heartbeat = _shortened(int(kind.heartbeat_seconds or timeout), "APPROVAL_HEARTBEAT_SECONDS")
    return {"timeout_seconds": timeout, "heartbeat_seconds": min(heartbeat, timeout)}


def _shortened(configured: int, variable: str) -> int:
    stage = int(os.environ.get(variable) or 0)
    return min(configured, stage) if stage > 0 else configured


@action("contract.check_version")
def check_version(run: Run) -> dict[str, Any]:
    """An amendment whose version is not newer than the last applied one is stale: recorded, not applied."""
    contract = run.contract
    applied = WorkflowStore().applied_version(contract.contract_id)
    return {"stale": contract.version <= applied, "applied_version": applied, "version": contract.version}


@action("contract.mark_applied")
def mark_applied(run: Run) -> dict[str, Any]:
    contract = run.contract
    return {"applied": WorkflowStore().mark_applied(contract.contract_id, contract.version, run.correlation_id)}
