"""POST /api/v1/accounts/validate: who the account is across CRM/billing/CS/ERP, and every data-quality rule it
fails - with the resolver and the rules the activation uses, read-only."""

from __future__ import annotations

from erphub import identity_resolution as resolver
from erphub.api.identity_view import ReadOnlyIdentity
from erphub.api.models import AccountInput, AccountValidation, IdentityConflict, RuleViolation
from erphub.canonical import Account, LegalEntity
from erphub.settings import get_settings
from erphub.workflows.actions import quality


def crm_system() -> str:
    return get_settings().crm_vendor or "salesforce"


def canonical_account(given: AccountInput) -> Account:
    """The canonical account the resolver and rules take; an account known only by its keys gets a stand-in id
    that matches no cross-reference."""
    country = given.billing_address.country if given.billing_address else None
    return Account(account_id=given.account_id or "", name=given.name or given.account_id or "(unnamed)",
                   domain=given.domain, tax_id=given.tax_id, country=country,
                   legal_entities=list(given.legal_entities), external_ids=dict(given.external_ids))


def billed_entities(account: Account, currency: str | None) -> list[LegalEntity]:
    """As the activation books it: each legal entity, or the account itself when it names none."""
    if account.legal_entities:
        return list(account.legal_entities)
    return [LegalEntity(entity_id=account.account_id or "account", name=account.name, currency=currency,
                        tax_id=account.tax_id, country=account.country)]


def validate(given: AccountInput) -> AccountValidation:
    account = canonical_account(given)
    found = resolver.resolve(account, crm_system(), ReadOnlyIdentity())
    rules = quality.account_violations(account, given.currency, billed_entities(account, given.currency))
    violations = [RuleViolation(rule=v.rule, field=v.field.removeprefix("account."), message=v.message) for v in rules]
    if found.status == "conflict":
        conflict = IdentityConflict(candidates=found.candidates, reason=found.reason or "")
        return AccountValidation(valid=False, resolution="conflict", conflicts=[conflict], violations=violations)
    resolved = found.status == "resolved"
    return AccountValidation(valid=not violations, resolution="resolved" if resolved else "new",
                             customer_id=found.customer_id if resolved else None, matched_by=found.matched_by,
                             systems=found.xrefs if resolved else {}, violations=violations)
