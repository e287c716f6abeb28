"""/reconciliations: start a reconciliation of every active contract on demand, and read its report."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from erphub.errors import Permanent
from erphub.reconciliation import runs
from erphub.reconciliation.store import ReconciliationStore

router = Router()


class ReconciliationReport(BaseModel):
    reconciliation_id: str
    trigger: str = ""
    status: str = Field(description="running (contracts still to check) or completed")
    started_at: str = ""
    updated_at: str = ""
    checked: int = 0
    matched: int = 0
    mismatched: int = 0
    failed: int = Field(default=0, description="contracts a system could not be read for (retried next run)")
    exceptions_opened: int = 0
    contracts: list[dict[str, Any]] = Field(default_factory=list, description=(
        "one result per checked contract: outcome matched / mismatched / failed, the mismatches with each "
        "system's value and the exception that tracks each"))


def report(reconciliation_id: str) -> ReconciliationReport:
    store = ReconciliationStore()
    run = store.run(reconciliation_id)
    contracts = sorted(store.results(reconciliation_id), key=lambda r: (r["outcome"] == "matched", r["contract_id"]))
    return ReconciliationReport(**{k: v for k, v in run.items() if k in ReconciliationReport.model_fields},
                                contracts=[{k: v for k, v in c.items() if k != "opened"} for c in contracts])


@router.post("/reconciliations", summary="Reconcile every active contract now (billing, ERP, contract terms)")
def start_reconciliation() -> ReconciliationReport:
    reconciliation_id = runs.start("operator")
    if not runs.hand_off(reconciliation_id):
        raise Permanent("RECONCILER_FUNCTION is not configured", system="hub")
    return report(reconciliation_id)


@router.get("/reconciliations/<reconciliation_id>", summary="A reconciliation's progress and report")
def show_reconciliation(reconciliation_id: str) -> ReconciliationReport:
    return report(reconciliation_id)
