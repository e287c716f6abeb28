"""POST /api/v1/quotes and GET /api/v1/quotes/{id}: a quote submitted for approval runs the data-quality and
approval rules of the activation; one that needs an approver opens an approval exception operators decide
(erphub.workflows.operator.decide), and its result is read back with GET."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from erphub.api import pricing
from erphub.api.accounts import canonical_account
from erphub.api.models import PricedQuote, QuoteStatus, QuoteSubmission, RuleViolation
from erphub.canonical import Contract, SubscriptionItem, UsageTerms
from erphub.errors import Conflict, NotFound
from erphub.store.quotes import QuoteStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import quality

WORKFLOW = "quote"
APPROVAL = "approval"


def correlation_id(quote_id: str) -> str:
    return f"quote:{quote_id}"


def submit(quote: QuoteSubmission) -> QuoteStatus:
    digest = hashlib.sha256(quote.model_dump_json().encode()).hexdigest()
    store = QuoteStore()
    stored = store.get(quote.quote_id)
    if stored and stored["digest"] == digest:
        return status(quote.quote_id)  # the same submission again (a client retry): the same answer
    if stored and stored["state"] in ("approved", "rejected"):
        raise Conflict(f"quote {quote.quote_id} was {stored['state']}; submit changes as a new quote",
                       system="hub", record=quote.quote_id)
    priced = pricing.price(quote)
    contract = as_contract(quote, priced)
    violations = _violations(contract, priced)
    reasons = quality.approval_reasons(contract)
    values: dict[str, Any] = {"digest": digest, "currency": quote.currency, "amount": contract.amount,
                              "violations": [v.model_dump() for v in violations], "reasons": reasons,
                              "submitted_at": stored.get("submitted_at") if stored else None}
    if violations:
        values["state"] = "needs_fixes"
    elif reasons:
        values["state"] = "pending_approval"
        values["exception_id"] = WorkflowStore().open_exception(
            correlation_id(quote.quote_id), WORKFLOW, APPROVAL, "; ".join(reasons), seed=correlation_id(quote.quote_id),
            detail={"quote_id": quote.quote_id, "amount": str(contract.amount), "currency": quote.currency})
    else:
        values.update(state="approved", decided_by="policy")
    store.put_undecided(quote.quote_id, values)
    return status(quote.quote_id)


def status(quote_id: str) -> QuoteStatus:
    stored = QuoteStore().get(quote_id)
    if stored is None:
        raise NotFound(f"no quote {quote_id}", system="hub", record=quote_id)
    reasons = list(stored.get("reasons") or [])
    if stored.get("decision_note") not in (None, "-"):
        reasons.append(stored["decision_note"])
    return QuoteStatus(quote_id=quote_id, state=stored["state"], reasons=reasons,
                       violations=[RuleViolation(**v) for v in stored.get("violations") or []],
                       amount=stored.get("amount"), currency=stored["currency"],
                       exception_id=stored.get("exception_id"), decided_by=stored.get("decided_by"),
                       submitted_at=stored["submitted_at"], updated_at=stored["updated_at"])


def as_contract(quote: QuoteSubmission, priced: PricedQuote) -> Contract:
    """The deal the quote would become, so the activation's rules judge it as they will judge the deal."""
    items = []
    for line, answer in zip(quote.lines, priced.lines, strict=True):
        usage = None
        if line.usage is not None and answer.overage is not None and answer.overage.overage_unit_price is not None:
            usage = UsageTerms(metric=line.usage.metric, unit=line.usage.unit,
                               included_quantity=line.usage.included_quantity,
                               overage_unit_price=answer.overage.overage_unit_price, currency=answer.currency)
        items.append(SubscriptionItem(sku=line.sku, quantity=line.quantity, unit_price=answer.unit_price, usage=usage,
                                      legal_entity_id=line.legal_entity_id))
    amount = sum((t.amount for t in priced.totals if t.currency == quote.currency), Decimal(0))
    return Contract(contract_id=quote.quote_id, version=0, account=canonical_account(quote.account),
                    currency=quote.currency, amount=amount, items=items, non_standard_terms=quote.non_standard_terms)


def _violations(contract: Contract, priced: PricedQuote) -> list[RuleViolation]:
    found = [RuleViolation(rule=v.rule, field=v.field.replace("items[", "lines[", 1), message=v.message)
             for v in quality.violations(contract)]
    known = {(v.field, v.message) for v in found}
    for line in priced.lines:
        found += [RuleViolation(rule="sellable", field=f"lines[{line.line}]", message=reason)
                  for reason in line.reasons if (f"lines[{line.line}].sku", reason) not in known]
    return found


def decide(exception: dict[str, Any], approved: bool, by: str, note: str) -> dict[str, Any]:
    """An operator's decision on a quote's approval exception: the quote's result (no workflow waits on it)."""
    quote_id = exception["detail"]["quote_id"]
    decision = "approved" if approved else "rejected"
    QuoteStore().decide(quote_id, decision, by, note)
    WorkflowStore().close_exception(exception["exception_id"], f"{decision} by {by}")
    return {"exception_id": exception["exception_id"], "resolution": f"{decision} by {by}"}
