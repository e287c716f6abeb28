"""A data fix goes to the system that masters the field (system_of_record.json), not only to the hub's copy.

The deal's fields are mastered by the CRM that sent it. The operator API does not hold CRM credentials: it asks
the CRM adapter (DESIGN rule 8) to write the fix to the deal (`crm.write_deal_fields`) or to read the deal as
the CRM holds it now (`crm.read_deal`), through `erphub.adapters.invoke`. A changed field the CRM's deal record
does not hold where the hub can write it (HubSpot line items, the currency, ...) cannot be fixed from the hub:
the operator is told to change it in the CRM and to re-read the deal from there (`reread`), which resumes the
run with the CRM's values.
"""

from __future__ import annotations

from typing import Any

from erphub import adapters
from erphub.errors import ValidationFailed
from erphub.workflows.actions.crm_masters import writable

CRM = "crm"


def deal_of(exception: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(the CRM that sent the deal, the deal's id there, the waiting deal)."""
    event = exception["detail"]["event"]
    return str(event.get("source") or ""), str(event.get("business_key") or ""), event["data"]


def plan(source: str, diff: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(the deal paths to write to the CRM, the changed fields the hub cannot write there)."""
    paths, refused = set(), []
    for change in diff:
        path = _writable_path(source, change) if change.get("master") == CRM else None
        if path is None:
            refused.append(str(change["field"]))
        else:
            paths.add(path)
    return sorted(paths), refused


def _writable_path(source: str, change: dict[str, Any]) -> str | None:
    field = str(change["field"])
    for path in writable(source):
        if field == path or field.startswith((f"{path}.", f"{path}[")):
            return path
    return None


def write(exception: dict[str, Any], fixed: dict[str, Any], diff: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the fixed fields to the deal in its CRM; ValidationFailed (nothing written) names the fields the
    operator must change in the CRM instead."""
    source, deal_id, _ = deal_of(exception)
    paths, refused = plan(source, diff)
    if refused:
        raise ValidationFailed(
            f"the hub cannot write {', '.join(refused)} to {source or 'the CRM'}: change it in {source or 'the CRM'}"
            f" (deal {deal_id}), then re-read the deal from there (erphub ops reread {exception['exception_id']})",
            system=source or CRM, record=exception["exception_id"])
    fields = {path: _value(fixed, path) for path in paths}
    return adapters.invoke(CRM, "crm.write_deal_fields", deal_id=deal_id, source=source, fields=fields)


def reread(exception: dict[str, Any]) -> dict[str, Any]:
    """The deal as its CRM holds it now (the waiting deal with the CRM's current values)."""
    source, deal_id, waiting = deal_of(exception)
    return adapters.invoke(CRM, "crm.read_deal", deal_id=deal_id, source=source, contract=waiting)


def written_to(diff: list[dict[str, Any]], system: str) -> list[dict[str, Any]]:
    """The diff, each change naming the system it was written to."""
    return [{**change, "written_to": system} for change in diff]


def _value(deal: dict[str, Any], path: str) -> Any:
    value: Any = deal
    for name in path.split("."):
        value = (value or {}).get(name)
    return value
