"""Hub actions: resolve the customer of a deal, and find what an existing contract owns in every system."""

from __future__ import annotations

from typing import Any

from erphub.canonical import CancellationRequest, Contract
from erphub.errors import NotFound
from erphub.identity_resolution import resolve
from erphub.store.identity_table import IdentityStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run


@action("identity.resolve")
def resolve_customer(run: Run) -> dict[str, Any]:
    """{"status": resolved|created|conflict, "customer_id", "xrefs", "conflict_id", "reason"}."""
    contract = run.contract
    return resolve(contract.account, run.envelope.source, IdentityStore()).model_dump()


@action("identity.lookup")
def lookup(run: Run) -> dict[str, Any]:
    """The customer and the records its contract(s) own: for amendment, renewal and cancellation."""
    store = IdentityStore()
    data = run.envelope.data
    if isinstance(data, Contract):
        ids = {run.envelope.source: data.account.account_id, **data.account.external_ids}
        contracts = [c for c in (data.contract_id, data.previous_contract_id) if c]
    elif isinstance(data, CancellationRequest):
        ids = {run.envelope.source: data.account_id, **data.external_ids}
        contracts = [data.contract_id] if data.contract_id else []
    else:
        raise NotFound(f"{run.action} cannot look up a {data.kind}", system="hub")
    customer_id = next((c for s, i in ids.items() if i and (c := store.customer_by_xref(s, i))), None)
    if customer_id is None:
        raise NotFound(f"no customer is known for {ids}", system="hub", record=run.correlation_id)
    if not contracts:
        contracts = store.customer_contracts(customer_id)
    links = [{**link, "contract_id": c} for c in contracts for link in store.contract_links(c)]
    if not links:
        raise NotFound(f"no activated contract among {contracts} for customer {customer_id}", system="hub",
                       record=run.correlation_id)
    return {"status": "resolved", "customer_id": customer_id, "xrefs": store.xrefs(customer_id),
            "contracts": sorted({link["contract_id"] for link in links}), "links": links,
            "terms": _latest_terms(store, sorted({link["contract_id"] for link in links}))}


def _latest_terms(store: IdentityStore, contracts: list[str]) -> dict[str, Any]:
    """The terms in force: those of the contract whose term starts last (a renewal over the original)."""
    terms = [t for c in contracts if (t := store.terms(c))]
    return max(terms, key=lambda t: (str(t.get("term_start") or ""), int(t.get("version") or 0)), default={})
