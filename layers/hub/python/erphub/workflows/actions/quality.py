"""Hub actions: the data-quality gate, the approval gate and stale-amendment refusal.

Gates answer; the state machine waits on a task token when they say so (an operator fixes or approves).
"""

from __future__ import annotations

from typing import Any

from erphub import business_config
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run, entities


@action("quality.check")
def check_quality(run: Run) -> dict[str, Any]:
    """Missing tax id, unknown product, currency mismatch -> issues an operator must fix before billing."""
    contract, issues, config = run.contract, [], business_config.current()
    if not contract.currency:
        issues.append("the deal has no currency")
    for entity in entities(contract):
        if not entity.tax_id:
            issues.append(f"legal entity {entity.entity_id} ({entity.name}) has no tax id")
        booked_in = config.subsidiary_currencies.get(entity.subsidiary or "")
        currency = entity.currency or contract.currency
        if booked_in and currency and currency != booked_in:
            issues.append(f"legal entity {entity.entity_id} bills in {currency}, its subsidiary {entity.subsidiary} "
                          f"books in {booked_in}")
    known = set(config.product_catalog)
    issues += [f"unknown product {item.sku}" for item in contract.items if known and item.sku not in known]
    if not contract.items:
        issues.append("the deal has no line items")
    return {"ok": not issues, "issues": issues}


@action("approval.evaluate")
def evaluate_approval(run: Run) -> dict[str, Any]:
    """Deals above the approval threshold or with non-standard terms need an approver (within the timeout)."""
    contract, reasons, policy = run.contract, [], business_config.current().approval
    threshold = policy.threshold
    if contract.amount is not None and contract.amount > threshold:
        reasons.append(f"deal value {contract.amount} {contract.currency} is over {threshold}")
    if contract.non_standard_terms:
        reasons.append("non-standard terms")
    return {"required": bool(reasons), "reasons": reasons, "timeout_seconds": policy.timeout_seconds,
            "heartbeat_seconds": policy.heartbeat_seconds}


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
