"""Identity resolution (DESIGN.md rule 10): which hub customer a record from any system belongs to. An account
resolves by existing cross-references first, then by exact keys (domain, tax id); when two candidates match,
it records a conflict and stops - never guesses.

A new customer's id is derived from the source system and its id, so resolving the same account twice
(a retried step) finds or creates the same customer.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from erphub.canonical import Account

_NAMESPACE = uuid.UUID("0b3f7d0e-5c1e-4c7a-9f7e-2d7b7c1a9e55")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


class IdentityRepository(Protocol):
    def customer_by_xref(self, system: str, system_id: str) -> str | None: ...
    def customers_by_key(self, kind: str, value: str) -> set[str]: ...
    def xrefs(self, customer_id: str) -> dict[str, str]: ...
    def link(self, customer_id: str, system: str, system_id: str, entity: str = "-") -> bool: ...
    def add_key(self, customer_id: str, kind: str, value: str) -> None: ...
    def record_conflict(self, conflict_id: str, subject: str, candidates: list[str], reason: str) -> None: ...


class Resolution(BaseModel):
    status: Literal["resolved", "created", "conflict"]
    customer_id: str | None = None
    matched_by: str | None = Field(default=None, description="xref:<system>, key:<kind> or new")
    candidates: list[str] = Field(default_factory=list)
    conflict_id: str | None = None
    reason: str | None = None
    xrefs: dict[str, str] = Field(default_factory=dict)


def normalized_keys(account: Account) -> list[tuple[str, str]]:
    """Exact keys: the domain (lower case, no www.) and every tax id (upper case, letters and digits)."""
    keys: list[tuple[str, str]] = []
    if account.domain:
        keys.append(("domain", account.domain.strip().lower().removeprefix("www.")))
    tax_ids = [account.tax_id] + [e.tax_id for e in account.legal_entities]
    keys += [("tax_id", _NOT_ALNUM.sub("", t.upper())) for t in tax_ids if t and _NOT_ALNUM.sub("", t.upper())]
    return list(dict.fromkeys(keys))


def new_customer_id(system: str, system_id: str) -> str:
    return f"cust-{uuid.uuid5(_NAMESPACE, f'{system}:{system_id}').hex[:20]}"


def resolve(account: Account, source: str, repo: IdentityRepository) -> Resolution:
    ids = {source: account.account_id, **account.external_ids}
    by_xref = {system: found for system, sid in ids.items() if sid and (found := repo.customer_by_xref(system, sid))}
    if len(set(by_xref.values())) > 1:
        return _conflict(repo, account, source, sorted(set(by_xref.values())),
                         f"the account's ids belong to different customers: {by_xref}")
    if by_xref:
        system, customer_id = next(iter(by_xref.items()))
        return _settle(repo, customer_id, f"xref:{system}", ids, account)
    candidates: dict[str, set[str]] = {}
    for kind, value in normalized_keys(account):
        for customer_id in repo.customers_by_key(kind, value):
            candidates.setdefault(customer_id, set()).add(kind)
    if len(candidates) > 1:
        return _conflict(repo, account, source, sorted(candidates),
                         f"exact keys match {len(candidates)} customers: {sorted(candidates)}")
    if candidates:
        customer_id, kinds = next(iter(candidates.items()))
        return _settle(repo, customer_id, f"key:{sorted(kinds)[0]}", ids, account)
    return _settle(repo, new_customer_id(source, account.account_id), "new", ids, account, created=True)


def _settle(repo: IdentityRepository, customer_id: str, matched_by: str, ids: dict[str, str], account: Account,
            created: bool = False) -> Resolution:
    for system, sid in ids.items():
        if sid and not repo.link(customer_id, system, sid):
            owner = repo.customer_by_xref(system, sid) or "?"
            return _conflict(repo, account, system, sorted({customer_id, owner}),
                             f"{system} id {sid} already belongs to customer {owner}")
    for kind, value in normalized_keys(account):
        repo.add_key(customer_id, kind, value)
    return Resolution(status="created" if created else "resolved", customer_id=customer_id, matched_by=matched_by,
                      xrefs=repo.xrefs(customer_id))


def _conflict(repo: IdentityRepository, account: Account, source: str, candidates: list[str],
              reason: str) -> Resolution:
    subject = f"{source}:{account.account_id}"
    conflict_id = hashlib.sha256(f"{subject}|{'|'.join(candidates)}".encode()).hexdigest()[:16]
    repo.record_conflict(conflict_id, subject, candidates, reason)
    return Resolution(status="conflict", candidates=candidates, conflict_id=conflict_id, reason=reason)
