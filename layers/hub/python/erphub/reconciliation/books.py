"""Pure comparison of one contract across the hub's terms, billing and the ERP.

Inputs are plain snapshots, so the same code compares every billing system and every ERP:
  terms    the contract's terms as last applied (IdentityStore.terms): items, billing frequency
  billing  {entity: {"items": {sku: qty}, "metered": [sku], "prices": {sku: annual price | None},
                     "billing_frequency": str | None, "status": str}}
  erp      {entity: {"items": {sku: qty}, "metered": [sku], "rates": {sku: rate}}}
A mismatch names its contract, entity, item and field, with each system's value, so an operator sees which
system drifted from the contract (the one that disagrees with it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

from erphub.workflows.comparisons import TOLERANCE, compare_prices

INACTIVE = {"canceled", "cancelled", "incomplete_expired", "expired"}


class Mismatch(BaseModel):
    contract_id: str
    entity: str
    sku: str = ""
    field: str
    contract: str | None = None
    billing: str | None = None
    erp: str | None = None
    crm: str | None = None  # the CRM's value (contract value against the deal: reconciliation/value.py)

    @model_serializer(mode="wrap")
    def _without_crm(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A mismatch the CRM has no part in keeps the detail it always had (no `crm` key)."""
        dumped: dict[str, Any] = handler(self)
        if dumped.get("crm") is None:
            dumped.pop("crm", None)
        return dumped

    @property
    def key(self) -> str:
        """What makes this mismatch one, whatever its values: the same unresolved diff keeps one exception."""
        return f"{self.contract_id}:{self.entity}:{self.sku}:{self.field}"

    def describe(self) -> str:
        where = f"{self.entity} {self.sku}".strip()
        if self.crm is not None:
            return f"{self.contract_id} deal {self.sku} {self.field}: contract {self.contract}, CRM {self.crm}"
        return (f"{self.contract_id} {where} {self.field}: contract {self.contract}, billing {self.billing}, "
                f"ERP {self.erp}")


def _number(value: Any) -> str | None:
    """A quantity as a person writes it: 100.0 and 100 are one value, and 30 is not 3E+1."""
    return None if value is None else f"{Decimal(str(value)).normalize():f}"


def contracted(terms: dict[str, Any], entities: list[str]) -> dict[str, dict[str, str]]:
    """Licensed quantities per entity as the hub applied them. Items without an entity belong to the first
    entity, which the terms do not name: they are assigned only when the contract has a single entity."""
    found: dict[str, dict[str, str]] = {e: {} for e in entities}
    for item in terms.get("items") or []:
        entity = item.get("legal_entity_id") or (entities[0] if len(entities) == 1 else None)
        if entity in found and not item.get("usage"):
            quantity = Decimal(str(item.get("quantity") or 0))
            if quantity:
                found[entity][item["sku"]] = f"{quantity.normalize():f}"
    return found


def is_active(billing: dict[str, Any]) -> bool:
    """A cancelled contract is not reconciled, nor one cancelled at period end: its ERP orders are closed on purpose
    (SAP rejects, Oracle cancels their lines) while billing runs to the end of the period."""
    return any(str(e.get("status") or "").lower() not in INACTIVE and not e.get("ending") for e in billing.values())


def _quantities(contract_id: str, entity: str, want: dict[str, str] | None, billed: dict[str, Any],
                booked: dict[str, Any]) -> list[Mismatch]:
    found = []
    billed = {s: _number(q) for s, q in billed.items() if Decimal(str(q))}
    booked = {s: _number(q) for s, q in booked.items() if Decimal(str(q))}
    for sku in sorted(set(billed) | set(booked) | set(want or {})):
        values = {"billing": billed.get(sku), "erp": booked.get(sku)}
        if want is not None:
            values["contract"] = _number(want[sku]) if sku in want else None
        if len(set(values.values())) > 1:
            found.append(Mismatch(contract_id=contract_id, entity=entity, sku=sku, field="quantity", **values))
    return found


def _prices(contract_id: str, entity: str, prices: dict[str, Any], rates: dict[str, Any]) -> list[Mismatch]:
    """Billing's yearly price per unit against the ERP's rate (only where COMPARE_PRICES says prices agree)."""
    found = []
    for sku in sorted(set(prices) & set(rates)):
        if prices[sku] is None:
            continue
        billed, booked = Decimal(str(prices[sku])), Decimal(str(rates[sku]))
        if abs(billed - booked) > TOLERANCE * max(abs(billed), abs(booked), Decimal(1)):
            found.append(Mismatch(contract_id=contract_id, entity=entity, sku=sku, field="price",
                                  billing=_number(billed), erp=_number(booked)))
    return found


def compare(contract_id: str, terms: dict[str, Any], billing: dict[str, Any], erp: dict[str, Any]) -> list[Mismatch]:
    entities = sorted(set(billing) | set(erp))
    want = contracted(terms, entities)
    found: list[Mismatch] = []
    for entity in entities:
        billed, booked = billing.get(entity), erp.get(entity)
        if billed is None or booked is None:
            found.append(Mismatch(contract_id=contract_id, entity=entity, field="record",
                                  billing="present" if billed else None, erp="present" if booked else None))
            continue
        found += _quantities(contract_id, entity, want.get(entity) if want.get(entity) else None,
                             billed.get("items") or {}, booked.get("items") or {})
        for sku in sorted(set(billed.get("metered") or []) ^ set(booked.get("metered") or [])):
            found.append(Mismatch(contract_id=contract_id, entity=entity, sku=sku, field="metered",
                                  billing=str(sku in (billed.get("metered") or [])),
                                  erp=str(sku in (booked.get("metered") or []))))
        frequency = billed.get("billing_frequency")
        if frequency and terms.get("billing_frequency") and frequency != terms["billing_frequency"]:
            found.append(Mismatch(contract_id=contract_id, entity=entity, field="billing_frequency",
                                  contract=terms["billing_frequency"], billing=frequency))
        if compare_prices():
            found += _prices(contract_id, entity, billed.get("prices") or {}, booked.get("rates") or {})
    return found
