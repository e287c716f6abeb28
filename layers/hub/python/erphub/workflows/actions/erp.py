"""ERP adapter actions: customers per subsidiary, sales orders (billing schedule, tax code, revenue dates),
amendments, renewal orders, closing, credit memos, and the forecast assumption of a renewal-risk signal (the
invoice and payment postings are in erp_ledger)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from erphub.canonical import Contract, LegalEntity, RenewalRisk, SubscriptionItem, UsageTerms
from erphub.connectors.interfaces import CreditMemo, ErpCustomer, Forecast, OrderLine, SalesOrder
from erphub.errors import NotFound, ValidationFailed
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run, entities, items_for
from erphub.workflows.systems import connector, vendor

BILLING_SCHEDULES = {"monthly": "Monthly In Advance", "quarterly": "Quarterly In Advance",
                     "semiannual": "Semiannual In Advance", "annual": "Annual In Advance"}
RISK_PROBABILITY = {"low": Decimal("0.9"), "medium": Decimal("0.6"), "high": Decimal("0.3")}


def customer_key(account_id: str, entity_id: str) -> str:
    return f"{account_id}:{entity_id}"


def _rate(item: SubscriptionItem, entity: LegalEntity, contract: Contract, prices: dict[str, str] | None) -> Decimal:
    """The deal's price, or, for an entity booked in another currency, billing's price in that currency; for usage,
    the overage price per unit, which the usage line states in its entity's currency."""
    currency = entity.currency or contract.currency
    if item.usage is not None:
        try:
            return item.usage.price_in(currency or "USD", contract.currency)
        except ValueError as exc:
            raise ValidationFailed(str(exc), system="erp", record=entity.entity_id) from exc
    if currency == contract.currency or currency is None:
        return item.unit_price or Decimal(0)
    if not prices or item.sku not in prices:
        raise ValidationFailed(f"no {currency} price for {item.sku}: the deal is priced in {contract.currency}",
                               system="erp", record=entity.entity_id)
    return Decimal(prices[item.sku])


def _overage(usage: UsageTerms, contract: Contract) -> str:
    period = usage.period or contract.billing_frequency or "annual"
    return (f"overage {usage.metric}: {usage.included_quantity} {usage.unit} included per {period} period, then "
            f"{usage.overage_unit_price} per {usage.unit}, billed in arrears")


def order_lines(contract: Contract, entity: LegalEntity, prices: dict[str, str] | None = None) -> list[OrderLine]:
    """One line per item. A usage item books an overage line: its rate is the metered price per unit and its
    quantity nothing yet, since overage is billed, and its revenue recognised, in arrears as usage occurs."""
    tax_code = f"{entity.country}-STD" if entity.country else None
    return [OrderLine(sku=i.sku, quantity=i.quantity if i.usage is None else Decimal(0),
                      rate=_rate(i, entity, contract, prices),
                      description=_overage(i.usage, contract) if i.usage else i.name,
                      tax_code=tax_code, rev_rec_start=contract.term_start, rev_rec_end=contract.term_end)
            for i in items_for(contract, entity.entity_id)]


def _order(contract: Contract, entity: LegalEntity, prices: dict[str, str] | None = None) -> SalesOrder:
    return SalesOrder(customer_external_id=customer_key(contract.account.account_id, entity.entity_id),
                      currency=entity.currency or contract.currency or "USD",
                      lines=order_lines(contract, entity, prices),
                      subsidiary=entity.subsidiary, tran_date=contract.close_date or contract.term_start,
                      billing_schedule=BILLING_SCHEDULES.get(str(contract.billing_frequency or "annual")),
                      memo=f"erphub {contract.contract_id} v{contract.version}", contract_id=contract.contract_id)


def _book(run: Run, step: str) -> dict[str, Any]:
    erp, contract = connector("erp"), run.contract
    identity, ledger, orders = IdentityStore(), WorkflowStore(), {}
    for entity in entities(contract):
        key = customer_key(contract.account.account_id, entity.entity_id)
        customer = erp.upsert_customer(ErpCustomer(
            external_id=key, name=entity.name, subsidiary=entity.subsidiary, currency=entity.currency
            or contract.currency, email=contract.owner_email, tax_id=entity.tax_id, country=entity.country))
        identity.link(run.customer_id, erp.system, customer.external_id or customer.id, entity.entity_id)
        prices = (run.result("billing").get("prices") or {}).get(entity.entity_id)
        order = erp.create_sales_order(_order(contract, entity, prices),
                                       idempotency_key=run.step_key(step, entity.entity_id))
        order_id = order.external_id or order.id
        ledger.record_created(run.correlation_id, erp.system, "sales_order", entity.entity_id, order_id)
        identity.link_contract(contract.contract_id, erp.system, "sales_order", entity.entity_id, order_id)
        orders[entity.entity_id] = order_id
    return {"orders": orders}


@action("erp.book")
def book(run: Run) -> dict[str, Any]:
    """Customer per subsidiary and one sales order per legal entity."""
    return _book(run, "erp.sales_order")


@action("erp.renewal_order")
def renewal_order(run: Run) -> dict[str, Any]:
    return _book(run, "erp.renewal_order")


@action("erp.void_created", compensation=True)
def void_created(run: Run) -> dict[str, Any]:
    """VoidSalesOrder: void every sales order this run created."""
    erp, ledger, voided = connector("erp"), WorkflowStore(), []
    for record in ledger.created(run.correlation_id, "sales_order"):
        if record["state"] == "created":
            erp.void_sales_order(record["record_id"])
            ledger.mark_compensated(run.correlation_id, record["system"], "sales_order", record["key"], "voided")
        voided.append(record["record_id"])
    return {"voided": voided}


def _linked_orders(run: Run) -> dict[str, str]:
    links = run.result("identity").get("links") or []
    return {link["entity"]: link["record_id"] for link in links if link["kind"] == "sales_order"}


@action("erp.amend_order")
def amend_order(run: Run) -> dict[str, Any]:
    erp, contract = connector("erp"), run.contract
    by_id = {e.entity_id: e for e in entities(contract)}
    amended = {}
    for entity_id, order_id in _linked_orders(run).items():
        if entity_id in by_id:
            prices = (run.result("billing").get("prices") or {}).get(entity_id)
            erp.amend_sales_order(order_id, _order(contract, by_id[entity_id], prices))
            amended[entity_id] = order_id
    return {"orders": amended}


@action("erp.snapshot")
def snapshot(run: Run) -> dict[str, Any]:
    """Per entity: booked quantities and the annual value of the amended orders."""
    erp, usage = connector("erp"), {i.sku for i in run.contract.items if i.usage}
    found = {}
    for entity_id, order_id in _linked_orders(run).items():
        booked = _booked_lines(erp, order_id)
        lines = [line for line in booked if line["sku"] not in usage]
        found[entity_id] = {
            "metered": {line["sku"]: str(line["rate"]) for line in booked if line["sku"] in usage},
            "items": {line["sku"]: str(line["quantity"]) for line in lines},
            "value": str(sum(Decimal(str(line["quantity"])) * Decimal(str(line["rate"])) for line in lines))}
    return {"entities": found}


def _booked_lines(erp: Any, order_id: str) -> list[dict[str, Any]]:
    """[{"sku", "quantity", "rate"}] of one sales order: the connector's own reading, or NetSuite's record."""
    if hasattr(erp, "order_lines"):
        return erp.order_lines(order_id)
    if erp.system != "netsuite":
        raise ValidationFailed(f"reconciliation cannot read {erp.system} sales orders", system=erp.system)
    lines = (erp.get_record("salesOrder", order_id).get("item") or {}).get("items") or []
    return [{"sku": (line.get("item") or {}).get("externalId"), "quantity": line.get("quantity", 0),
             "rate": line.get("rate", 0)} for line in lines]


@action("erp.close_orders")
def close_orders(run: Run) -> dict[str, Any]:
    """The final ERP posting of a cancellation: its sales orders are closed (billed to date, nothing further)."""
    erp = connector("erp")
    orders = sorted({link["record_id"] for link in run.result("identity").get("links") or []
                     if link["kind"] == "sales_order"})  # every contract's orders: original and renewals
    for order_id in orders:
        erp.close_sales_order(order_id)
    return {"closed": orders}


@action("erp.credit_memo")
def credit_memo(run: Run) -> dict[str, Any]:
    """An immediate cancellation credits the unused part of the term, per entity, prorated by days."""
    erp, identity = connector("erp"), run.result("identity")
    terms = identity.get("terms") or {}
    items = [SubscriptionItem.model_validate(i) for i in terms.get("items") or []]
    start, end = (date.fromisoformat(terms[k]) if terms.get(k) else None for k in ("term_start", "term_end"))
    today = date.today()
    share = Decimal((end - today).days) / Decimal((end - start).days) if start and end and end > today else Decimal(0)
    account_id = identity.get("xrefs", {}).get(vendor("crm"), "")
    memos = {}
    for entity_id, order_id in _linked_orders(run).items():
        lines = [OrderLine(sku=i.sku, quantity=i.quantity,
                           rate=((i.unit_price or Decimal(0)) * share).quantize(Decimal("0.01")))
                 for i in items if i.usage is None and i.legal_entity_id in (None, entity_id)]
        if not lines or share <= 0:
            continue
        ref = erp.issue_credit_memo(CreditMemo(
            customer_external_id=customer_key(account_id, entity_id), currency=terms.get("currency") or "USD",
            lines=lines, reason=f"cancelled now: {getattr(run.envelope.data, 'reason', '') or 'no reason given'}"),
            idempotency_key=run.step_key("erp.credit_memo", entity_id))
        memos[entity_id] = ref.external_id or ref.id
        WorkflowStore().record_created(run.correlation_id, erp.system, "credit_memo", entity_id, memos[entity_id],
                                       order=order_id)
    return {"credit_memos": memos, "unused_share": str(share)}


@action("erp.forecast")
def forecast(run: Run) -> dict[str, Any]:
    """Renewal-risk signal: the renewal's forecast probability follows the risk, per ERP customer."""
    risk = run.data(RenewalRisk)
    identity, erp = IdentityStore(), connector("erp")
    customer_id = identity.customer_for({run.envelope.source: risk.account_id, **risk.external_ids})
    if customer_id is None:
        raise NotFound(f"no customer for {risk.account_id}", system="erp", record=risk.account_id)
    contracts = identity.customer_contracts(customer_id)
    terms = identity.terms(contracts[-1]) if contracts else {}
    when = risk.renewal_date or (date.fromisoformat(terms["term_end"]) if terms.get("term_end") else date.today())
    period = f"{when.year}-Q{(when.month - 1) // 3 + 1}"
    updated = {}
    for key, erp_id in identity.xrefs(customer_id).items():
        if key.split("/")[0] != erp.system:
            continue
        entity = key.split("/", 1)[1] if "/" in key else "-"
        value = sum((Decimal(str(i.get("quantity") or 0)) * Decimal(str(i.get("unit_price") or 0))
                     for i in terms.get("items") or [] if i.get("legal_entity_id") in (None, entity)), Decimal(0))
        ref = erp.update_forecast(Forecast(external_id=f"{erp_id}:{period}", customer_external_id=erp_id,
                                           period=period, amount=value, currency=terms.get("currency") or "USD",
                                           probability=RISK_PROBABILITY[risk.risk_level]))
        updated[erp_id] = ref.external_id or ref.id
    result = {"forecasts": updated, "period": period}
    WorkflowStore().record_signal(run.correlation_id, "renewal_risk", erp.system, result)
    return result
