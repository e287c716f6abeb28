"""Hub actions: the data-quality gate, the approval gate and stale-amendment refusal.

Gates answer; the state machine waits on a task token when they say so (an operator fixes or approves).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from erphub import business_config
from erphub.canonical import Account, Contract, LegalEntity, SubscriptionItem
from erphub.operations import kinds
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run, entities


def catalog() -> set[str]:
    """The sellable SKUs of the business configuration; empty means every SKU is accepted."""
    return set(business_config.current().product_catalog)


def subsidiary_currencies() -> dict[str, str]:
    """The currency each ERP subsidiary books in (business configuration), e.g. {"US01": "USD"}."""
    return dict(business_config.current().subsidiary_currencies)


class Violation(NamedTuple):
    """A data-quality rule a deal fails: the rule, the field it is about and what an operator must fix."""

    rule: str
    field: str
    message: str


def account_violations(account: Account, currency: str | None, contract_entities: list[LegalEntity]) -> list[Violation]:
    """The rules about who is billed: every legal entity has a tax id and bills in its subsidiary's currency."""
    issues = [] if currency else [Violation("currency_required", "currency", "the deal has no currency")]
    for i, entity in enumerate(contract_entities):
        where = f"account.legal_entities[{i}]" if account.legal_entities else "account"
        if not entity.tax_id:
            issues.append(Violation("tax_id_required", f"{where}.tax_id",
                                    f"legal entity {entity.entity_id} ({entity.name}) has no tax id"))
        booked_in = subsidiary_currencies().get(entity.subsidiary or "")
        billed_in = entity.currency or currency
        if booked_in and billed_in and billed_in != booked_in:
            issues.append(Violation("currency_matches_subsidiary", f"{where}.currency",
                                    f"legal entity {entity.entity_id} bills in {billed_in}, its subsidiary "
                                    f"{entity.subsidiary} books in {booked_in}"))
    return issues


def item_violations(items: list[SubscriptionItem]) -> list[Violation]:
    """The rules about what is sold: at least one line, every SKU in the sellable catalog."""
    known = catalog()
    issues = [Violation("known_product", f"items[{i}].sku", f"unknown product {item.sku}")
              for i, item in enumerate(items) if known and item.sku not in known]
    if not items:
        issues.append(Violation("line_items_required", "items", "the deal has no line items"))
    return issues


def violations(contract: Contract) -> list[Violation]:
    """Every data-quality rule the deal fails (the activation's gate and the synchronous API use this)."""
    return (account_violations(contract.account, contract.currency, entities(contract))
            + item_violations(list(contract.items)))


def approval_reasons(contract: Contract) -> list[str]:
    """Why a deal needs an approver: over the approval threshold, or non-standard terms; empty = no approval."""
    reasons = []
    threshold = business_config.current().approval.threshold
    if contract.amount is not None and contract.amount > threshold:
        reasons.append(f"deal value {contract.amount} {contract.currency} is over {threshold}")
    if contract.non_standard_terms:
        reasons.append("non-standard terms")
    return reasons


@action("quality.check")
def check_quality(run: Run) -> dict[str, Any]:
    """Missing tax id, unknown product, currency mismatch -> issues an operator must fix before billing."""
    issues = [v.message for v in violations(run.contract)]
    return {"ok": not issues, "issues": issues}


@action("approval.evaluate")
def evaluate_approval(run: Run) -> dict[str, Any]:
    """Deals above the approval threshold or with non-standard terms need an approver (within the timeout)."""
    reasons = approval_reasons(run.contract)
    return {"required": bool(reasons), "reasons": reasons, **approval_bounds()}


def approval_bounds() -> dict[str, int]:
    """The approval wait's TimeoutSeconds/HeartbeatSeconds (AwaitApproval reads them from $.approval): the
    approval kind's in config/exception_kinds.json; the business configuration's approval timeout/heartbeat may
    shorten them (0 keeps the kind's), never lengthen them past the owner's SLA rules."""
    kind, policy = kinds.of("approval"), business_config.current().approval
    timeout = _shortened(int(kind.wait_timeout_seconds or 0), policy.timeout_seconds)
    heartbeat = _shortened(int(kind.heartbeat_seconds or timeout), policy.heartbeat_seconds)
    return {"timeout_seconds": timeout, "heartbeat_seconds": min(heartbeat, timeout)}


def _shortened(configured: int, stage: int) -> int:
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


def mark_applied_if_asked(run: Run) -> dict[str, Any]:
    """`{"applied": ...}` when the Task asks (`with: mark_applied: true`): the last forward step of a run marks its
    version applied after its own work, instead of a state of its own with the same retries and compensation.
    Idempotent: a retry finds the version applied and answers False."""
    return mark_applied(run) if run.field("mark_applied") else {}
