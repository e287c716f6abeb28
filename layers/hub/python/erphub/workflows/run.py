"""What an adapter action receives from a state machine: the workflow's state, and the action's own fields."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from erphub.canonical import Contract, EventEnvelope, LegalEntity, SubscriptionItem


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
        return EventEnvelope.model_validate(self.state["event"])

    @property
    def contract(self) -> Contract:
        data = self.envelope.data
        assert isinstance(data, Contract), f"{self.action} needs a contract, got {data.kind}"
        return data

    def step_key(self, step: str, entity: str = "") -> str:
        """Idempotency key of an outbound create: correlation id + step (+ legal entity)."""
        return f"{self.correlation_id}:{step}" + (f":{entity}" if entity else "")

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
