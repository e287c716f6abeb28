"""What an adapter action receives from a state machine: the workflow's state, and the action's own fields."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from erphub.canonical import Contract, EventEnvelope, LegalEntity, SubscriptionItem
from erphub.errors import Permanent
from erphub.store import raw_bodies

Data = TypeVar("Data")


class Run(BaseModel):
    """One action call: {"action", "workflow", "state": <the execution's state>, ...action fields}."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    action: str
    workflow: str = ""
    state: dict[str, Any] = Field(default_factory=dict)

    @property
    def correlation_id(self) -> str:
        return str(self.state.get("correlation_id") or self.envelope.correlation_id)

    @cached_property
    def envelope(self) -> EventEnvelope:
        return EventEnvelope.model_validate(raw_bodies.resolve_event(self.state["event"]))

    def data(self, kind: type[Data]) -> Data:
        """The event's business object, which this action can only take as a `kind`: a run started by another
        kind of event is a wiring error that no retry mends."""
        data = self.envelope.data
        if not isinstance(data, kind):
            raise Permanent(f"{self.action} needs a {kind.__name__}, got {data.kind}", system="hub",
                            record=self.envelope.event_id)
        return data

    @property
    def contract(self) -> Contract:
        """The deal; for an amendment, the contract as amended (its lines applied to the terms in force)."""
        data = self.data(Contract)
        terms = self.result("identity").get("terms")
        return amended(data, terms) if self.workflow == "amendment" and terms else data

    def step_key(self, step: str, entity: str = "") -> str:
        """Idempotency key of an outbound create: correlation id + contract version + step (+ legal entity)."""
        return f"{self.correlation_id}:v{self.envelope.version}:{step}" + (f":{entity}" if entity else "")

    def result(self, name: str) -> dict[str, Any]:
        value = self.state.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def customer_id(self) -> str:
        return str(self.result("identity").get("customer_id") or "")

    def field(self, name: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(name, default)


def entities(contract: Contract) -> list[LegalEntity]:
    """The contracting legal entities; a deal without any is booked for the account itself."""
    if contract.account.legal_entities:
        return list(contract.account.legal_entities)
    return [LegalEntity(entity_id=contract.account.account_id, name=contract.account.name,
                        currency=contract.currency, tax_id=contract.account.tax_id, country=contract.account.country)]


def items_for(contract: Contract, entity_id: str) -> list[SubscriptionItem]:
    """Items booked to one entity: those naming it, and unassigned ones go to the first entity."""
    first = entities(contract)[0].entity_id
    return [i for i in contract.items if (i.legal_entity_id or first) == entity_id]


def amended(change: Contract, terms: dict[str, Any]) -> Contract:
    """An amendment carries the lines that change (e.g. +50 seats for one entity, or a new module): quantities
    add to the line of the same SKU and entity, new lines are added, everything else stays as in force."""
    lines: dict[tuple[str, str | None], SubscriptionItem] = {}
    for raw in terms.get("items") or []:
        item = SubscriptionItem.model_validate(raw)
        lines[(item.sku, item.legal_entity_id)] = item
    for item in change.items:
        key = (item.sku, item.legal_entity_id)
        if key in lines and item.usage is None:
            lines[key] = lines[key].model_copy(update={"quantity": lines[key].quantity + item.quantity})
        elif key not in lines:
            lines[key] = item
    return Contract.model_validate({
        **change.model_dump(), "items": [i.model_dump() for i in lines.values()],
        "billing_frequency": change.billing_frequency or terms.get("billing_frequency"),
        "term_start": terms.get("term_start") or change.term_start,
        "term_end": terms.get("term_end") or change.term_end,
        "currency": change.currency or terms.get("currency")})
