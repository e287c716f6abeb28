"""Order-to-cash cycle time, exact from the hub's records (docs/kpis.md): a contract is won when its closed-won deal
is accepted in the inbox, invoiced when the first billing invoice of its subscription is posted in the ERP (the
posting ledger names the contract the subscription is linked to in the identity cross-reference), and paid when the
payment applied to that invoice is posted in the ERP.

The three milestones come from two streams in no set order, so each is kept on one item (the first seen of each
wins) and the facts are written whenever the milestones they need are all there; a fact's key is the contract, so
writing it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from erphub.kpis.store import KpiStore, seconds_between

# facts: won -> first invoice posted (at the posting), first invoice posted -> paid and won -> paid (at the payment)
O2C_INVOICED, O2C_PAID = "o2c_invoiced", "o2c_paid"


def won(contract_id: str, at: str, store: KpiStore) -> None:
    _facts(contract_id, store.milestone(contract_id, "won_at", at), store)


def invoiced(contract_id: str, invoice_id: str, at: str, store: KpiStore) -> None:
    _facts(contract_id, store.milestone(contract_id, "invoiced_at", at, invoice_id=invoice_id), store)


def paid(contract_id: str, invoice_id: str, at: str, store: KpiStore) -> None:
    """A payment of any of the contract's invoices is kept; only the first invoice's counts in the cycle."""
    _facts(contract_id, store.milestone(contract_id, f"paid:{invoice_id}", at), store)


def _facts(contract_id: str, milestones: dict[str, Any], store: KpiStore) -> None:
    won_at, invoiced_at = milestones.get("won_at"), milestones.get("invoiced_at")
    if not (won_at and invoiced_at):
        return
    store.fact(O2C_INVOICED, invoiced_at, contract_id, seconds=seconds_between(won_at, invoiced_at))
    paid_at = milestones.get(f"paid:{milestones['invoice_id']}")
    if paid_at:
        store.fact(O2C_PAID, paid_at, contract_id, seconds=seconds_between(invoiced_at, paid_at),
                   total_seconds=seconds_between(won_at, paid_at))
