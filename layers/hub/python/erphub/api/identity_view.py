"""The identity resolver run read-only: a validation asks "who is this?" and must not link ids, add keys or
record conflicts (that is the activation's job, which owns the consequences)."""

from __future__ import annotations

from erphub.store.identity_table import IdentityStore


class ReadOnlyIdentity:
    """IdentityRepository whose writes answer as the real ones would, and write nothing."""

    def __init__(self, store: IdentityStore | None = None) -> None:
        self.store = store or IdentityStore()

    def customer_by_xref(self, system: str, system_id: str) -> str | None:
        return self.store.customer_by_xref(system, system_id)

    def customers_by_key(self, kind: str, value: str) -> set[str]:
        return self.store.customers_by_key(kind, value)

    def xrefs(self, customer_id: str) -> dict[str, str]:
        return self.store.xrefs(customer_id)

    def link(self, customer_id: str, system: str, system_id: str, entity: str = "-") -> bool:
        owner = self.store.customer_by_xref(system, system_id)
        return owner is None or owner == customer_id

    def add_key(self, customer_id: str, kind: str, value: str) -> None:
        return None

    def record_conflict(self, conflict_id: str, subject: str, candidates: list[str], reason: str) -> None:
        return None
