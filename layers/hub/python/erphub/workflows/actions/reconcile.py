"""Hub action: reconcile the billing and ERP snapshots the amendment read."""

from __future__ import annotations

from typing import Any

from erphub.workflows.actions import action
from erphub.workflows.actions.quality import mark_applied_if_asked
from erphub.workflows.comparisons import compare_books
from erphub.workflows.run import Run


@action("reconcile.compare")
def compare(run: Run) -> dict[str, Any]:
    mismatches = compare_books(run.result("billing_snapshot"), run.result("erp_snapshot"))
    return {"matched": not mismatches, "mismatches": mismatches, **({} if mismatches else mark_applied_if_asked(run))}
