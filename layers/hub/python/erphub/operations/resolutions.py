"""Resolving an exception whose cause the operator fixed outside the hub (a reconciliation mismatch corrected in
the ERP, an unpublishable event repaired, a late run seen to): nothing waits on it, so resolving sends nothing to
a workflow; it closes the exception once, with the operator's note, and audits it. `abandon` stays for giving up."""

from __future__ import annotations

from typing import Any

from erphub.errors import ValidationFailed
from erphub.workflows import operator


def resolve(exception_id: str, note: str, *, by: str) -> dict[str, Any]:
    """Close an exception no workflow waits on; the note (what was fixed) is kept with it and in the audit trail."""
    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if exception.get("task_token"):  # a waiting run must be answered (resume, fix...), never left waiting
            raise ValidationFailed(f"a workflow waits on {exception_id}: answer it instead of resolving",
                                   system="hub", record=exception_id)
        return f"resolved by {by}: {note}", {"note": note}

    return operator.act(exception_id, "resolve", by, note, perform)
