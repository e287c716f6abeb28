"""Zuora Billing through its v1 REST API: OAuth 2.0 client credentials (`/oauth/token`), customer accounts, and
subscriptions through the Orders API (`POST /v1/orders` with CreateSubscription, AddProduct, UpdateProduct,
RemoveProduct, CancelSubscription order actions).

Zuora answers many business errors with HTTP 200 and `{"success": false, "reasons": [{"code", "message"}]}`; the
last two digits of a code are its category (developer.zuora.com/docs/guides/error-handling), which decides the
typed error. Every POST carries an `Idempotency-Key`. A SKU is a catalog product (`sku`), its rate plan the one
whose charges bill on the subscription's period; a usage item's terms override its usage charge's included units
and overage price (charge model Overage). Accounts are numbered by our customer key, so a lookup finds them.

Secret (ZUORA_SECRET_NAME): {"client_id", "client_secret"}. Base URL (ZUORA_BASE_URL): https://rest.zuora.com
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from erphub.canonical import Invoice, InvoiceLine, Subscription, SubscriptionItem
from erphub.connectors.base import Connector, external_key
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import (
    BillingCustomer,
    CollectionStrategy,
    NewSubscription,
    RecordRef,
    SubscriptionChange,
)
from erphub.connectors.oauth2 import ClientCredentialsToken, oauth_error
from erphub.connectors.zuora_catalog import PERIODS, Catalog, charge_override, usage_terms
from erphub.errors import Conflict, HubError, NotFound, Permanent, RateLimited, Transient, ValidationFailed

TRANSIENT_CATEGORIES = {50, 60, 61, 99}  # locking contention, internal, temporary, integration


def _reasons(body: Any) -> list[dict[str, Any]]:
    reasons = body.get("reasons") if isinstance(body, dict) else None
    return [r for r in reasons or [] if isinstance(r, dict)]


def parse_error(response: requests.Response) -> VendorError:
    body = json_or_none(response)
    reasons = _reasons(body)
    if reasons:
        return VendorError("; ".join(str(r.get("message", "")) for r in reasons), str(reasons[0].get("code", "")))
    if isinstance(body, dict) and body.get("message"):
        return VendorError(str(body["message"]))
    return VendorError(response.text[:300] or response.reason)


def refusal(body: dict[str, Any], record: str) -> HubError:
    """The typed error of a `success: false` body, by the category of its first reason code."""
    vendor = parse_error_body(body)
    category = int(vendor.code) % 100 if vendor.code.isdigit() else 0
    reason = f"zuora {vendor.code}: {vendor.message}"
    if category == 40:
        return NotFound(reason, system="zuora", record=record)
    if category == 70:
        return RateLimited(reason, system="zuora", record=record)
    if category in TRANSIENT_CATEGORIES:
        return Transient(reason, system="zuora", record=record)
    if category == 30:
        return Conflict(reason, system="zuora", record=record)
    if category in (10, 11):
        return Permanent(reason, system="zuora", record=record)
    return ValidationFailed(reason, system="zuora", record=record)


def parse_error_body(body: dict[str, Any]) -> VendorError:
    reasons = _reasons(body)
    if not reasons:
        return VendorError("success is false and no reason given")
    return VendorError("; ".join(str(r.get("message", "")) for r in reasons), str(reasons[0].get("code", "")))


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


class ZuoraBilling(Connector):
    system = "zuora"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = Catalog(self)
        from erphub.connectors.zuora_metering import ZuoraMetering  # it imports this module's refusal

        self.metering = ZuoraMetering(self)  # closed usage periods (erphub.usage.report)

    def make_client(self) -> HttpClient:
        client_id, secret = self.secret("client_id", "client_secret")
        self.token = ClientCredentialsToken(self.client(error_parser=oauth_error), "/oauth/token",
                                            {"client_id": client_id, "client_secret": secret}, default_lifetime=3600)
        return self.client(auth=lambda *_: self.token.header(), error_parser=parse_error,
                           reauthenticate=self.token.invalidate)

    def call(self, method: str, path: str, *, body: Any = None, params: Any = None, idempotency_key: str | None = None,
             record: str = "") -> dict[str, Any]:
        """One request; a `success: false` answer (HTTP 200 included) becomes its typed error."""
        headers = {"Idempotency-Key": idempotency_key[:255]} if idempotency_key else None
        found = self.http.json(method, path, json=body, params=params, headers=headers,
                               idempotency_key=idempotency_key, record=record) or {}
        if isinstance(found, dict) and found.get("success") is False:
            raise refusal(found, record)
        return found if isinstance(found, dict) else {}

    # --- accounts ----------------------------------------------------------------------------------
    def upsert_customer(self, customer: BillingCustomer, *, idempotency_key: str) -> RecordRef:
        number = external_key(customer.customer_key, 50)
        contact = {"firstName": customer.name[:100], "lastName": customer.legal_entity_id or "Billing",
                   "workEmail": customer.email, "country": customer.country}
        fields = {k: v for k, v in {"name": customer.name, "crmId": customer.metadata.get("hub_customer_id")}.items()
                  if v}
        try:
            self.call("GET", f"/v1/accounts/{quote(number, safe='')}", record=number)
        except NotFound:
            self.call("POST", "/v1/accounts", body={
                **fields, "accountNumber": number, "currency": customer.currency or "USD", "billCycleDay": 0,
                "autoPay": False, "paymentTerm": "Due Upon Receipt",
                "billToContact": {k: v for k, v in contact.items() if v}}, idempotency_key=idempotency_key,
                record=number)
            return RecordRef(system=self.system, kind="customer", id=number, external_id=customer.customer_key,
                             created=True)
        self.call("PUT", f"/v1/accounts/{quote(number, safe='')}", body=fields, record=number)
        return RecordRef(system=self.system, kind="customer", id=number, external_id=customer.customer_key,
                         created=False)

    # --- subscriptions through orders ----------------------------------------------------------------
    def _order(self, account: str, subscription: dict[str, Any], key: str, record: str) -> dict[str, Any]:
        return self.call("POST", "/v1/orders", body={
            "orderDate": date.today().isoformat(), "existingAccountNumber": account,
            "subscriptions": [subscription], "processingOptions": {"runBilling": False}},
            idempotency_key=key, record=record)

    def _triggers(self, when: date) -> list[dict[str, str]]:
        return [{"name": name, "triggerDate": when.isoformat()}
                for name in ("ContractEffective", "ServiceActivation", "CustomerAcceptance")]

    def _rate_plan(self, item: SubscriptionItem, frequency: str, currency: str) -> dict[str, Any]:
        # Zuora bills each charge on its own period, so usage measured monthly can sit on an annual subscription
        period = str(item.usage.period) if item.usage and item.usage.period else frequency
        plan = self.catalog.rate_plan(item.sku, period)
        return {"productRatePlanId": plan["id"],
                "chargeOverrides": [charge_override(charge, item, currency) for charge in plan["charges"]]}

    def create_subscription(self, request: NewSubscription, *, idempotency_key: str) -> RecordRef:
        start = request.start_date or date.today()
        frequency = str(request.billing_frequency)
        action = {"type": "CreateSubscription", "triggerDates": self._triggers(start), "createSubscription": {
            "terms": {"initialTerm": {"startDate": start.isoformat(), "period": 12, "periodType": "Month",
                                      "termType": "TERMED"},
                      "renewalSetting": "RENEW_WITH_SPECIFIC_TERM", "autoRenew": True,
                      "renewalTerms": [{"period": 12, "periodType": "Month"}]},
            "subscribeToRatePlans": [self._rate_plan(i, frequency, request.currency) for i in request.items]}}
        custom = {"LegalEntityId__c": request.legal_entity_id, "ContractId__c": request.contract_id,
                  "BillingFrequency__c": frequency}
        body = self._order(request.customer_id, {"orderActions": [action],
                                                 "customFields": {k: v for k, v in custom.items() if v}},
                           idempotency_key, request.customer_id)
        numbers = body.get("subscriptionNumbers") or [s.get("subscriptionNumber") for s in body.get("subscriptions")
                                                       or []]
        if not numbers or not numbers[0]:
            raise Permanent("zuora order created no subscription", system=self.system, record=request.customer_id)
        return RecordRef(system=self.system, kind="subscription", id=numbers[0], created=True)

    def _raw(self, subscription_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/subscriptions/{quote(subscription_id, safe='')}", record=subscription_id)

    def change_subscription(self, subscription_id: str, change: SubscriptionChange, *, idempotency_key: str) -> None:
        """One order of product actions. A new frequency swaps every rate plan for the one on the new period (one
        interval per subscription, as with Stripe); a product already on the subscription is not added again."""
        raw = self._raw(subscription_id)
        current = str((raw.get("customFields") or {}).get("BillingFrequency__c") or raw.get("BillingFrequency__c")
                      or "annual")
        frequency = str(change.billing_frequency or current)
        currency = str(raw.get("currency") or "USD")
        actions: list[dict[str, Any]] = []
        have = {plan.get("productSku"): plan for plan in raw.get("ratePlans") or []
                if plan.get("lastChangeType") != "Remove"}
        for sku, plan in sorted(have.items()):
            item = self._current_item(plan, change.quantities.get(sku))
            if change.quantities.get(sku) == 0:
                actions.append({"type": "RemoveProduct", "removeProduct": {"ratePlanId": plan["id"]}})
            elif frequency != current:
                actions += [{"type": "RemoveProduct", "removeProduct": {"ratePlanId": plan["id"]}},
                            {"type": "AddProduct", "addProduct": self._rate_plan(item, frequency, currency)}]
            elif sku in change.quantities:
                actions.append({"type": "UpdateProduct", "updateProduct": {"ratePlanId": plan["id"], "chargeUpdates": [
                    {"chargeNumber": c["number"], "pricing": {"recurringPerUnit": {"quantity": float(item.quantity)}}}
                    for c in plan.get("ratePlanCharges") or [] if c.get("type") == "Recurring"]}})
        actions += [{"type": "AddProduct", "addProduct": self._rate_plan(item, frequency, currency)}
                    for item in sorted(change.add_items, key=lambda i: i.sku) if item.sku not in have]
        if not actions:
            return
        for action in actions:
            action["triggerDates"] = self._triggers(date.today())
        self._order(str(raw.get("accountNumber")), {
            "subscriptionNumber": subscription_id, "orderActions": actions,
            "customFields": {"BillingFrequency__c": frequency}}, idempotency_key, subscription_id)

    @staticmethod
    def _current_item(plan: dict[str, Any], quantity: Decimal | None) -> SubscriptionItem:
        charges = plan.get("ratePlanCharges") or []
        recurring = next((c for c in charges if c.get("type") == "Recurring"), None)
        usage = next((usage_terms(c) for c in charges if c.get("type") == "Usage"), None)
        held = Decimal(str(recurring.get("quantity") or 1)) if recurring else Decimal(1)
        return SubscriptionItem(sku=str(plan.get("productSku")), quantity=quantity or held, usage=usage)

    def cancel_subscription(self, subscription_id: str, *, at_period_end: bool = True, idempotency_key: str) -> None:
        raw = self._raw(subscription_id)
        if raw.get("status") == "Cancelled":
            return  # cancelling twice is harmless
        policy = ({"cancellationPolicy": "EndOfCurrentTerm"} if at_period_end else
                  {"cancellationPolicy": "SpecificDate", "cancellationEffectiveDate": date.today().isoformat()})
        self._order(str(raw.get("accountNumber")), {"subscriptionNumber": subscription_id, "orderActions": [
            {"type": "CancelSubscription", "triggerDates": self._triggers(date.today()),
             "cancelSubscription": policy}]}, idempotency_key, subscription_id)

    def get_subscription(self, subscription_id: str) -> Subscription:
        raw = self._raw(subscription_id)
        items = []
        for plan in raw.get("ratePlans") or []:
            if plan.get("lastChangeType") == "Remove":
                continue
            charges = plan.get("ratePlanCharges") or []
            recurring = next((c for c in charges if c.get("type") == "Recurring"), None)
            usage = next((usage_terms(c) for c in charges if c.get("type") == "Usage"), None)
            items.append(SubscriptionItem(
                sku=str(plan.get("productSku")), usage=usage,
                quantity=Decimal(str(recurring.get("quantity") or 0)) if recurring else Decimal(0),
                unit_price=Decimal(str(recurring["price"])) if recurring and recurring.get("price") is not None
                else None))
        custom = raw.get("customFields") or raw
        frequencies = {c.get("billingPeriod") for p in raw.get("ratePlans") or [] for c in p.get("ratePlanCharges")
                       or []}
        frequency = next((f for f, period in PERIODS.items() if period in frequencies), None)
        return Subscription(
            subscription_id=raw.get("subscriptionNumber") or subscription_id, customer_id=str(raw.get("accountNumber")),
            status="canceled" if raw.get("status") == "Cancelled" else str(raw.get("status", "")).lower(),
            currency=str(raw.get("currency") or "USD").upper(), billing_frequency=frequency, items=items,
            start_date=_day(raw.get("termStartDate")), current_period_end=_day(raw.get("termEndDate")),
            cancel_at_period_end=raw.get("status") == "Active" and bool(raw.get("cancelledDate")),
            canceled_at=datetime.fromisoformat(raw["cancelledDate"]) if raw.get("status") == "Cancelled"
            and raw.get("cancelledDate") else None,
            legal_entity_id=custom.get("LegalEntityId__c"), contract_id=custom.get("ContractId__c"),
            external_ids={"zuora": raw.get("id") or subscription_id})

    # --- collection and invoices ---------------------------------------------------------------------
    def set_collection(self, customer_id: str, strategy: CollectionStrategy, *, idempotency_key: str) -> None:
        """Zuora keeps it on the account: AutoPay charges the default payment method, else invoices are sent."""
        automatic = strategy.method == "charge_automatically"
        term = "Due Upon Receipt" if automatic else f"Net {strategy.days_until_due or 30}"
        self.call("PUT", f"/v1/accounts/{quote(customer_id, safe='')}",
                  body={"autoPay": automatic, "paymentTerm": term}, record=customer_id)

    def list_invoices(self, customer_id: str) -> list[Invoice]:
        body = self.call("GET", f"/v1/transactions/invoices/accounts/{quote(customer_id, safe='')}",
                         params={"pageSize": 40}, record=customer_id)
        invoices = []
        for raw in body.get("invoices") or []:
            total, balance = Decimal(str(raw.get("amount") or 0)), Decimal(str(raw.get("balance") or 0))
            invoices.append(Invoice(
                invoice_id=raw["id"], customer_id=customer_id, number=raw.get("invoiceNumber"),
                status=str(raw.get("status") or "Draft").lower(), currency=str(raw.get("currency") or "USD"),
                total=total, amount_due=balance, amount_paid=total - balance,
                lines=[InvoiceLine(description=line.get("chargeName"), amount=Decimal(str(line.get("chargeAmount")
                                                                                           or 0)))
                       for line in raw.get("invoiceItems") or []]))
        return invoices

    # --- usage -------------------------------------------------------------------------------------
    def record_usage(self, subscription_id: str, sku: str, quantity: Decimal, start: datetime, *,
                     idempotency_key: str) -> RecordRef:
        """One usage record on the subscription's usage charge of a SKU, in the charge's unit of measure."""
        raw = self._raw(subscription_id)
        plan = next((p for p in raw.get("ratePlans") or [] if p.get("productSku") == sku
                     and p.get("lastChangeType") != "Remove"), None)
        charge = next((c for c in (plan or {}).get("ratePlanCharges") or [] if c.get("type") == "Usage"), None)
        if charge is None:
            raise ValidationFailed(f"zuora subscription {subscription_id} has no usage charge for {sku}",
                                   system=self.system, record=subscription_id)
        body = self.call("POST", "/v1/object/usage", body={
            "AccountNumber": raw.get("accountNumber"), "SubscriptionNumber": subscription_id,
            "ChargeNumber": charge["number"], "Quantity": float(quantity), "UOM": charge.get("uom") or "Each",
            "StartDateTime": start.isoformat(timespec="seconds"), "UniqueKey": external_key(idempotency_key, 50)},
            idempotency_key=idempotency_key, record=subscription_id)
        if body.get("Success") is False:
            raise refusal({"reasons": body.get("Errors") and [
                {"code": e.get("Code"), "message": e.get("Message")} for e in body["Errors"]]}, subscription_id)
        return RecordRef(system=self.system, kind="usage", id=str(body.get("Id")), external_id=idempotency_key,
                         created=True)
