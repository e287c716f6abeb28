"""Billing adapter actions: customers and subscriptions per legal entity, amendments, renewal, cancellation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from erphub.canonical import BillingFrequency, Contract, LegalEntity, RenewalRisk, Subscription, SubscriptionItem
from erphub.connectors.base import add_months
from erphub.connectors.interfaces import BillingCustomer, CollectionStrategy, NewSubscription, SubscriptionChange
from erphub.errors import NotFound, ValidationFailed
from erphub.reconciliation.value import term_months
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.comparisons import PERIODS_PER_YEAR, compare_prices, compare_renewal
from erphub.workflows.run import Run, entities, items_for
from erphub.workflows.systems import connector

MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}


def _subscriptions(run: Run) -> dict[str, str]:
    """entity -> subscription id, from the links the lookup found (or this run created)."""
    links = run.result("identity").get("links") or []
    found = {link["entity"]: link["record_id"] for link in links if link["kind"] == "subscription"}
    return found or dict(run.result("billing").get("subscriptions") or {})


def _terms(run: Run) -> dict[str, Any]:
    contract = run.contract
    return {"billing_frequency": contract.billing_frequency, "currency": contract.currency,
            "term_start": contract.term_start, "term_end": contract.term_end, "version": contract.version,
            "items": [i.model_dump(mode="json") for i in contract.items], "deal": _deal(run)}


def _deal(run: Run) -> dict[str, Any]:
    """The lines this version's deal sold (an amendment's: the change, not the merged contract) and its term, for
    the reconciliation of its value against the CRM's amount (erphub/reconciliation/value.py)."""
    deal = run.data(Contract)
    months = deal.term_months or term_months(deal.term_start, deal.term_end)
    return {"items": [i.model_dump(mode="json") for i in deal.items], "term_months": months}


def billed_prices(run: Run, subscriptions: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per entity billed in another currency than the deal's: the yearly price per unit billing charges for each
    licensed SKU, from the billing catalog's price in that currency. The ERP books these, not the deal's prices
    unconverted (the deal carries one currency; the catalog has a price per currency)."""
    billing, contract, prices = connector("billing"), run.contract, {}
    periods = PERIODS_PER_YEAR.get(str(contract.billing_frequency or "annual"), 1)
    currencies = {e.entity_id: e.currency or contract.currency for e in entities(contract)}
    for entity, subscription_id in sorted(subscriptions.items()):
        if currencies.get(entity) in (None, contract.currency):
            continue
        items = billing.get_subscription(subscription_id).items
        prices[entity] = {i.sku: str(Decimal(i.unit_price) * periods) for i in items if i.unit_price is not None}
    return prices


def priced_items(contract: Contract, entity: LegalEntity) -> list[SubscriptionItem]:
    """An entity's items, each usage line's terms stated in the entity's currency (billing creates the metered
    price in it). A usage line priced in another currency is refused: no exchange rate is guessed."""
    currency = entity.currency or contract.currency or "USD"
    items = []
    for item in items_for(contract, entity.entity_id):
        if item.usage is not None:
            try:
                item.usage.price_in(currency, contract.currency)
            except ValueError as exc:
                raise ValidationFailed(str(exc), system="billing", record=entity.entity_id) from exc
            item = item.model_copy(update={"usage": item.usage.model_copy(update={"currency": currency})})
        items.append(item)
    return items


@action("billing.activate")
def activate(run: Run) -> dict[str, Any]:
    """Upsert one billing customer per legal entity and create its subscription (with usage terms)."""
    billing, contract = connector("billing"), run.contract
    identity, ledger = IdentityStore(), WorkflowStore()
    customers, subscriptions = {}, {}
    items = {entity.entity_id: priced_items(contract, entity) for entity in entities(contract)}  # refuse before acting
    for entity in entities(contract):
        customer = billing.upsert_customer(BillingCustomer(
            customer_key=f"{contract.account.account_id}:{entity.entity_id}", name=entity.name,
            email=contract.owner_email, currency=entity.currency or contract.currency, country=entity.country,
            legal_entity_id=entity.entity_id, metadata={"hub_customer_id": run.customer_id}),
            idempotency_key=run.step_key("billing.customer", entity.entity_id))
        identity.link(run.customer_id, billing.system, customer.id, entity.entity_id)
        customers[entity.entity_id] = customer.id
        subscription = billing.create_subscription(NewSubscription(
            customer_id=customer.id, items=items[entity.entity_id],
            billing_frequency=contract.billing_frequency or BillingFrequency.ANNUAL,
            currency=entity.currency or contract.currency or "USD", start_date=contract.term_start,
            legal_entity_id=entity.entity_id, contract_id=contract.contract_id),
            idempotency_key=run.step_key("billing.subscription", entity.entity_id))
        ledger.record_created(run.correlation_id, billing.system, "subscription", entity.entity_id, subscription.id)
        identity.link_contract(contract.contract_id, billing.system, "subscription", entity.entity_id, subscription.id)
        subscriptions[entity.entity_id] = subscription.id
    identity.put_terms(contract.contract_id, run.customer_id, _terms(run))
    return {"customers": customers, "subscriptions": subscriptions, "prices": billed_prices(run, subscriptions)}


@action("billing.cancel_created", compensation=True)
def cancel_created(run: Run) -> dict[str, Any]:
    """CancelSubscriptions: cancel, now, every subscription this run created."""
    billing, ledger = connector("billing"), WorkflowStore()
    cancelled = []
    for record in ledger.created(run.correlation_id, "subscription"):
        if record["state"] == "created":
            billing.cancel_subscription(record["record_id"], at_period_end=False,
                                        idempotency_key=run.step_key("billing.compensate", record["key"]))
            ledger.mark_compensated(run.correlation_id, record["system"], "subscription", record["key"], "cancelled")
        cancelled.append(record["record_id"])
    return {"cancelled": cancelled}


def _in_force(run: Run, entity: str) -> list[SubscriptionItem] | None:
    """The entity's items as they were before this run: part of the step's input (the contract lookup), so every
    attempt of the step computes the same change. None when the contract's terms were never recorded."""
    terms = run.result("identity").get("terms")
    if not terms:
        return None
    first = entities(run.contract)[0].entity_id
    items = [SubscriptionItem.model_validate(i) for i in terms.get("items") or []]
    return [i for i in items if (i.legal_entity_id or first) == entity]


def _change_to(run: Run, entity: str, subscription_id: str, step: str) -> dict[str, Any]:
    """Change a subscription to the contract's items and frequency (prorated); returns what it was. The change is
    built from the step's input only, so a retried step resends the same request under its idempotency key."""
    billing, contract = connector("billing"), run.contract
    before = _in_force(run, entity)
    if before is None:
        before = billing.get_subscription(subscription_id).items
    wanted = items_for(contract, entity)
    have = {i.sku: i.quantity for i in before}
    previous_frequency = (run.result("identity").get("terms") or {}).get("billing_frequency")
    frequency = contract.billing_frequency if contract.billing_frequency != previous_frequency else None
    change = SubscriptionChange(
        quantities={i.sku: i.quantity for i in sorted(wanted, key=lambda i: i.sku)
                    if i.sku in have and i.usage is None and have[i.sku] != i.quantity},
        add_items=sorted((i for i in wanted if i.sku not in have), key=lambda i: i.sku),
        billing_frequency=frequency, prorate=True)
    if change.quantities or change.add_items or change.billing_frequency:
        billing.change_subscription(subscription_id, change, idempotency_key=run.step_key(step, entity))
    return {"quantities": {k: str(v) for k, v in have.items()}, "billing_frequency": previous_frequency,
            "added": [i.sku for i in change.add_items], "changed": bool(change.quantities or change.add_items
                                                                         or change.billing_frequency)}


@action("billing.amend")
def amend(run: Run) -> dict[str, Any]:
    previous = {entity: _change_to(run, entity, sid, "billing.amend") for entity, sid in _subscriptions(run).items()}
    IdentityStore().put_terms(run.contract.contract_id, run.customer_id, _terms(run))
    return {"previous": previous, "subscriptions": _subscriptions(run),
            "prices": billed_prices(run, _subscriptions(run))}


def _reverting(run: Run, entity: str) -> dict[str, Any] | None:
    """What to put back for one entity, from the step's input; it does not need the amend step's result, so it
    also undoes an amend step that failed after billing took the change (a lost response)."""
    before = _in_force(run, entity)
    if before is None:
        return (run.result("billing").get("previous") or {}).get(entity)
    had = {i.sku for i in before}
    terms_frequency = (run.result("identity").get("terms") or {}).get("billing_frequency")
    return {"changed": True, "quantities": {i.sku: str(i.quantity) for i in before if i.usage is None},
            "added": sorted({i.sku for i in items_for(run.contract, entity)} - had),
            "billing_frequency": terms_frequency if terms_frequency != run.contract.billing_frequency else None}


@action("billing.revert_amendment", compensation=True)
def revert_amendment(run: Run) -> dict[str, Any]:
    """RevertSubscriptionChange: put quantities and frequency back; items the amendment added are removed."""
    billing, reverted = connector("billing"), []
    for entity, subscription_id in sorted(_subscriptions(run).items()):
        before = _reverting(run, entity)
        if not before or not before.get("changed"):
            continue
        quantities = {sku: Decimal(q) for sku, q in sorted(before["quantities"].items())}
        quantities.update({sku: Decimal(0) for sku in before.get("added", [])})
        billing.change_subscription(subscription_id, SubscriptionChange(
            quantities=quantities, billing_frequency=before.get("billing_frequency"), prorate=True),
            idempotency_key=run.step_key("billing.revert", entity))
        reverted.append(entity)
    terms = run.result("identity").get("terms")
    if terms:
        IdentityStore().put_terms(run.contract.contract_id, run.customer_id, terms)
    return {"reverted": reverted}


@action("billing.snapshot")
def snapshot(run: Run) -> dict[str, Any]:
    """Per entity: billed quantities and the annual recurring value (None if a price is unknown)."""
    billing, found = connector("billing"), {}
    usage = {i.sku for i in run.contract.items if i.usage}  # metered: billed on usage, not a quantity
    periods = PERIODS_PER_YEAR.get(str(run.contract.billing_frequency or "annual"), 1)
    for entity, subscription_id in _subscriptions(run).items():
        sub = billing.get_subscription(subscription_id)
        licensed = [i for i in sub.items if i.quantity and i.sku not in usage]
        value = (None if not compare_prices() or any(i.unit_price is None for i in licensed)
                 else sum((Decimal(i.quantity) * Decimal(i.unit_price) * periods for i in licensed), Decimal(0)))
        found[entity] = {"items": {i.sku: str(i.quantity) for i in licensed},
                         "metered": {i.sku: str(i.usage.overage_unit_price) if i.usage else None
                                     for i in sub.items if i.sku in usage},
                         "value": str(value) if value is not None and value > 0 else None}
    return {"entities": found}


def on_cycle(subscription: Subscription, term_start: date | None, frequency: str) -> Subscription:
    """The subscription with the end of its billing period moved, by whole periods, next to the renewal's start.
    Billing keeps the cycle it was anchored on (Stripe does not restart it at a renewal), so a renewal is aligned
    when its term starts on one of the cycle's boundaries, whichever period is current today."""
    end = subscription.current_period_end
    if end is None or term_start is None:
        return subscription
    step = MONTHS_PER_PERIOD.get(frequency, 12)
    periods = round(((term_start.year - end.year) * 12 + term_start.month - end.month) / step)
    return subscription.model_copy(update={"current_period_end": add_months(end, periods * step)})


@action("billing.alignment")
def alignment(run: Run) -> dict[str, Any]:
    """Does billing (term, price, items) match the renewed opportunity?"""
    billing, contract, differences = connector("billing"), run.contract, []
    frequency = str(contract.billing_frequency or "annual")
    for entity, subscription_id in _subscriptions(run).items():
        wanted = items_for(contract, entity)
        subscription = on_cycle(billing.get_subscription(subscription_id), contract.term_start, frequency)
        found = compare_renewal(subscription, contract,
                                {i.sku: i.quantity for i in wanted}, {i.sku: i.unit_price for i in wanted})
        differences += [f"{entity}: {d}" for d in found]
    return {"aligned": not differences, "differences": differences}


@action("billing.renew")
def renew(run: Run) -> dict[str, Any]:
    identity, contract = IdentityStore(), run.contract
    for entity, subscription_id in _subscriptions(run).items():
        _change_to(run, entity, subscription_id, "billing.renew")
        identity.link_contract(contract.contract_id, connector("billing").system, "subscription", entity,
                               subscription_id)
    identity.put_terms(contract.contract_id, run.customer_id, _terms(run))
    return {"subscriptions": _subscriptions(run), "prices": billed_prices(run, _subscriptions(run))}


@action("billing.cancel")
def cancel(run: Run) -> dict[str, Any]:
    billing = connector("billing")
    now = getattr(run.envelope.data, "effective", "at_period_end") == "immediately"
    subscriptions = _subscriptions(run)
    for entity, subscription_id in subscriptions.items():
        billing.cancel_subscription(subscription_id, at_period_end=not now,
                                    idempotency_key=run.step_key("billing.cancel", entity))
    return {"cancelled": subscriptions, "effective": "immediately" if now else "at_period_end"}


@action("billing.collection")
def collection(run: Run) -> dict[str, Any]:
    """Renewal-risk signal: a high-risk account's invoices are sent, not charged automatically."""
    risk = run.data(RenewalRisk)
    billing, identity = connector("billing"), IdentityStore()
    customer = identity.customer_for({run.envelope.source: risk.account_id, **risk.external_ids})
    if customer is None:
        raise NotFound(f"no customer for {risk.account_id}", system=billing.system, record=risk.account_id)
    strategy = (CollectionStrategy(method="send_invoice", days_until_due=30, dunning=False)
                if risk.risk_level == "high" else CollectionStrategy(method="charge_automatically", dunning=True))
    customers = [v for k, v in identity.xrefs(customer).items() if k.split("/")[0] == billing.system]
    for customer_id in customers:  # one key per customer: a key names one request (Chargebee refuses a reuse)
        billing.set_collection(customer_id, strategy, idempotency_key=f"{run.correlation_id}:billing.collection:"
                                                                      f"{run.envelope.event_id}:{customer_id}")
    result = {"customers": customers, "method": strategy.method}
    WorkflowStore().record_signal(run.correlation_id, "renewal_risk", billing.system, result)
    return result
