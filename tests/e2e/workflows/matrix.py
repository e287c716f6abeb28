"""The vendor matrix: one row is a CRM + billing + customer success + ERP combination. Each vendor has a driver
here: the CRM closes deals as its webhooks say so, billing and the ERP are read back by business object (what a
person checks in each vendor's screen), so one test body runs on every row."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from deals import Deal, annual_deal_items, post


@dataclass(frozen=True)
class Row:
    crm: str
    billing: str
    success: str
    erp: str

    @property
    def id(self) -> str:
        return f"{self.crm}-{self.billing}-{self.success}-{self.erp}"

    def parameters(self) -> dict[str, str]:
        return {"CrmVendor": self.crm, "BillingVendor": self.billing, "SuccessVendor": self.success,
                "ErpVendor": self.erp}


ROWS = [Row("salesforce", "stripe", "gainsight", "netsuite"), Row("hubspot", "chargebee", "gainsight", "dynamics")]
# A row's deal carries the usage line of annual_deal_items() (API calls with overage, in LE-US): billing meters
# it (metered(), below) and the ERP books its overage line.


class MatrixDeal(Deal):
    """A two-entity deal (USD for the US entity, EUR for the German one) whose ids suit the row's CRM."""

    def __init__(self, label: str, crm: str) -> None:
        super().__init__(label)
        if crm == "hubspot":  # HubSpot object ids are numbers
            self.account_id, self.opportunity_id = f"98{self.n}", f"18{self.n}"
        self.crm = crm


# --- CRM: seed the account, close the deal, an amendment of it, its renewal --------------------------------
AMENDMENT_START, RENEWAL = "2024-09-01", {"Term_Start__c": "2025-06-01", "Term_End__c": "2026-05-31",
                                          "CloseDate": "2025-05-15"}


def activate(hub: Any, deal: MatrixDeal, **fields: Any) -> dict[str, Any]:
    """The CRM's closed-won webhook for a new deal; the activation's execution once it stopped."""
    if deal.crm == "salesforce":
        hub.sandbox.seed("salesforce", "Account", {"Id": deal.account_id, "Name": deal.name, "OwnerId": "005OWNER"})
        _salesforce(hub, deal.outbound_message(**fields))
    else:
        hub.sandbox.seed("hubspot", "companies", {"id": deal.account_id, "name": deal.name,
                                                  "domain": f"{deal.n}.example"})
        _hubspot(hub, deal, deal.opportunity_id, deal.opportunity_id, 1, annual_deal_items(), "closedwon", fields)
    return hub.execution("activation", deal.opportunity_id)


def amend(hub: Any, deal: MatrixDeal, version: int, items: list[dict], **fields: Any) -> dict[str, Any]:
    """An amendment closed in the CRM (Salesforce: a versioned opportunity; HubSpot: a deal of the amendment
    pipeline naming the contract and version); the amendment's execution once it stopped."""
    fields = {"Term_Start__c": AMENDMENT_START, **fields}
    if deal.crm == "salesforce":
        _salesforce(hub, deal.outbound_message(
            Id=f"{deal.opportunity_id}A{version}", Contract_Key__c=deal.opportunity_id,
            Contract_Version__c=f"{version}.0", Type="Amendment", Line_Items__c=items,
            Previous_Opportunity__c=deal.opportunity_id, LastModifiedDate=f"2024-09-0{version}T10:00:00.000Z",
            **fields))
        return hub.execution("amendment", deal.opportunity_id, version, timeout=45)
    deal_id = f"{deal.opportunity_id}{version}"
    _hubspot(hub, deal, deal_id, deal.opportunity_id, version, items, "amendmentwon", fields)
    return hub.execution("amendment", deal_id, 1, timeout=45)


def renew(hub: Any, deal: MatrixDeal, **fields: Any) -> tuple[str, dict[str, Any]]:
    """The renewal deal (a new contract following the first); its id and the renewal's execution."""
    fields = {**RENEWAL, **fields}
    if deal.crm == "salesforce":
        renewal_id = f"{deal.opportunity_id}R"
        _salesforce(hub, deal.outbound_message(Id=renewal_id, Type="Renewal",
                                               Previous_Opportunity__c=deal.opportunity_id,
                                               LastModifiedDate="2025-05-15T10:00:00.000Z", **fields))
    else:
        renewal_id = f"{deal.opportunity_id}9"
        _hubspot(hub, deal, renewal_id, renewal_id, 1, annual_deal_items(), "renewalwon", fields)
    return renewal_id, hub.execution("renewal", renewal_id, 1, timeout=45)


def cancel(hub: Any, deal: MatrixDeal, effective: str) -> dict[str, Any]:
    """Customer success asks to cancel the contract (Gainsight knows the CRM account by its own external id)."""
    company = {"gsid": f"1P{deal.n}", "name": deal.name, "externalIds": {}}
    if deal.crm == "salesforce":
        company["sfdcAccountId"] = deal.account_id
    else:
        company["externalIds"] = {"hubspot": deal.account_id}
    body = {"eventId": f"{deal.n}-cancel", "eventType": "cancellation_requested", "occurredAt": "2024-09-02T06:00:00Z",
            "company": company, "contractId": deal.opportunity_id, "effective": effective,
            "reason": "Consolidating vendors"}
    status, text = post(hub.gateway, "gainsight", json.dumps(body).encode())
    assert status < 300, text
    return hub.latest("cancellation", f"1P{deal.n}", timeout=45)


def _salesforce(hub: Any, body: bytes) -> None:
    status, text = post(hub.gateway, "salesforce", body)
    assert status == 200 and "<Ack>true</Ack>" in text, text


CHARGEBEE_PRICE = re.compile(r"-[A-Z]{3}-(Monthly|Yearly|Every-\d+-months)$")  # item price id: SKU-CUR-period
HUBSPOT_FREQUENCY = {"Annual": "annually", "Quarterly": "quarterly", "Monthly": "monthly"}


def _hubspot(hub: Any, deal: MatrixDeal, deal_id: str, contract_key: str, version: int, items: list[dict],
             stage: str, fields: dict[str, Any]) -> None:
    """The deal with its line items and company in HubSpot, then the webhook of its stage change."""
    sandbox, hubspot = hub.sandbox, hub.sandbox.vendors["hubspot"]
    frequency = HUBSPOT_FREQUENCY[fields.get("Billing_Frequency__c", "Annual")]
    sandbox.seed("hubspot", "deals", {
        "id": deal_id, "dealname": f"{deal.name} {stage}", "dealstage": stage, "amount": deal_amount(items),
        "deal_currency_code": "USD", "closedate": fields.get("CloseDate", "2024-05-31"),
        "erphub_contract_key": contract_key, "erphub_contract_version": str(version),
        "erphub_previous_deal": deal.opportunity_id if deal_id != deal.opportunity_id else "",
        "erphub_term_start": fields.get("Term_Start__c", "2024-06-01"),
        "erphub_term_end": fields.get("Term_End__c", "2025-05-31"), "erphub_term_months": "12",
        "erphub_legal_entities": json.dumps(deal.entities)})
    hubspot.associate("deals", deal_id, "companies", deal.account_id, 5)
    for item in items:
        usage = item.get("usage") or {}
        line = sandbox.seed("hubspot", "line_items", {
            "hs_sku": item["sku"], "name": item["name"], "quantity": str(item["quantity"]),
            "price": item["unit_price"], "recurringbillingfrequency": frequency,
            "erphub_legal_entity_id": item["legal_entity_id"], "erphub_usage_metric": usage.get("metric", ""),
            "erphub_usage_unit": usage.get("unit", ""), "erphub_included_quantity": usage.get("included_quantity", ""),
            "erphub_overage_unit_price": usage.get("overage_unit_price", "")})
        hubspot.associate("deals", deal_id, "line_items", line)
    webhook = _hubspot_webhook(deal, deal_id)
    webhook[1]["propertyValue"] = stage
    status, text = post(hub.gateway, "hubspot", json.dumps(webhook).encode())
    assert status < 300, text


def deal_amount(items: list[dict], months: int = 12) -> str:
    """The deal's amount as the CRM totals its lines: licensed quantity x yearly price over the term (usage commits
    nothing), so an amendment's deal states what it sold, not the first deal's amount."""
    yearly = sum((Decimal(str(i["quantity"])) * Decimal(str(i["unit_price"])) for i in items if not i.get("usage")),
                 Decimal(0))
    return f"{yearly * months / 12:.2f}"


def _hubspot_webhook(deal: MatrixDeal, deal_id: str) -> list[dict[str, Any]]:
    """The delivery of events/hubspot/deal.closedwon.json for this deal: the company association, then the stage."""
    with open(hub_sample(), encoding="utf-8") as sample:
        association, stage = json.load(sample)
    event = uuid.uuid4().int % 10**12  # HubSpot's eventId: unique per delivery, the hub dedups on it
    return [{**association, "eventId": event, "fromObjectId": int(deal_id), "toObjectId": int(deal.account_id)},
            {**stage, "eventId": event + 1, "objectId": int(deal_id)}]


def hub_sample() -> str:
    return str(Path(__file__).resolve().parents[3] / "events" / "hubspot" / "deal.closedwon.json")


def crm_account(hub: Any, deal: MatrixDeal) -> dict[str, Any]:
    if deal.crm == "salesforce":
        return next(a for a in hub.records("salesforce", "Account") if a["Id"] == deal.account_id)
    return next(c["properties"] for c in hub.records("hubspot", "companies") if c["id"] == deal.account_id)


def crm_status(row: Row, account: dict[str, Any]) -> str | None:
    return account.get("Lifecycle_Status__c") if row.crm == "salesforce" else account.get("erphub_lifecycle_status")


def crm_accounts(hub: Any, deal: MatrixDeal) -> int:
    """How many CRM accounts carry the deal's name (a write-back must not create a second one)."""
    if deal.crm == "salesforce":
        return len([a for a in hub.records("salesforce", "Account") if a.get("Name") == deal.name])
    return len([c for c in hub.records("hubspot", "companies") if c["properties"].get("name") == deal.name])


# --- billing: the deal's subscriptions by legal entity, as {sku: quantity} -----------------------------------
def subscriptions(hub: Any, row: Row, deal: MatrixDeal) -> dict[str, dict[str, Any]]:
    if row.billing == "stripe":
        return {s["metadata"]["legal_entity_id"]: s for s in hub.records("stripe", "subscription")
                if (s.get("metadata") or {}).get("contract_id") == deal.opportunity_id}
    customers = {c["id"] for c in hub.records("chargebee", "customer")
                 if str(c.get("id", "")).startswith(deal.account_id) or deal.account_id in json.dumps(c)}
    return {s.get("cf_legal_entity_id"): s for s in hub.records("chargebee", "subscription")
            if s.get("customer_id") in customers}


def billed(hub: Any, row: Row, subscription: dict[str, Any]) -> dict[str, float]:
    """{sku: quantity} of the licensed items of one subscription."""
    if row.billing == "stripe":
        return {i["price"]["lookup_key"].rsplit("_", 1)[0]: float(i["quantity"])
                for i in subscription["items"]["data"] if i.get("quantity") is not None}
    return {CHARGEBEE_PRICE.sub("", i["item_price_id"]): float(i["quantity"])
            for i in subscription["subscription_items"] if i.get("quantity") is not None}


def metered(row: Row, subscription: dict[str, Any]) -> dict[str, str]:
    """{sku: overage unit price} of the metered items of one subscription (no quantity: usage is billed in arrears).
    Stripe: a metered price whose last tier is the overage; Chargebee: the item price's item_tiers."""
    if row.billing == "stripe":
        return {i["price"]["metadata"]["erphub_sku"]: str(i["price"]["tiers"][-1]["unit_amount_decimal"])
                for i in subscription["items"]["data"]
                if i["price"]["recurring"].get("usage_type") == "metered" and i.get("quantity") is None}
    return {CHARGEBEE_PRICE.sub("", t["item_price_id"]): str(t.get("price_in_decimal"))
            for t in subscription.get("item_tiers") or [] if t.get("ending_unit") is None}


STRIPE_PERIODS = {("month", 1): "monthly", ("month", 3): "quarterly", ("month", 6): "semiannual", ("year", 1): "annual"}


def intervals(row: Row, subscription: dict[str, Any]) -> set[str]:
    """The billing periods of a subscription's items, metered ones included (one: billing refuses mixed
    intervals)."""
    if row.billing == "stripe":
        return {STRIPE_PERIODS[(i["price"]["recurring"]["interval"], i["price"]["recurring"]["interval_count"])]
                for i in subscription["items"]["data"]}
    return {CHARGEBEE_PRICE.search(i["item_price_id"]).group(1) for i in subscription["subscription_items"]}


def currency(row: Row, record: dict[str, Any]) -> str:
    """The currency a subscription bills in or a sales order books in (NetSuite names it by a reference)."""
    value = record.get("currency") or record.get("currency_code") or record.get("erphub_currency")
    return str(value["refName"] if isinstance(value, dict) else value).upper()


def ends_at_period_end(row: Row, subscription: dict[str, Any]) -> bool:
    """Cancelled at the end of the paid period: still active until then, not renewed after."""
    if row.billing == "stripe":
        return subscription["cancel_at_period_end"] and subscription["status"] == "active"
    return subscription["status"] == "non_renewing"


# --- ERP: the deal's sales orders by legal entity, as {sku: quantity} ----------------------------------------
def sales_orders(hub: Any, row: Row, deal: MatrixDeal, contract: str = "") -> dict[str, dict[str, Any]]:
    """The sales orders of the deal's contract (or of another, e.g. its renewal) by legal entity."""
    contract = contract or deal.opportunity_id
    if row.erp == "netsuite":
        return {o["entity"]["externalId"].rsplit(":", 1)[1]: o for o in hub.records("netsuite", "salesOrder")
                if o.get("otherRefNum") == contract}
    entity_of = {e["subsidiary"]: e["entity_id"] for e in deal.entities}  # Dynamics keeps the subsidiary
    return {entity_of[o["erphub_legalentity"]]: o for o in hub.records("dynamics", "salesorders")
            if o.get("erphub_contractid") == contract}


def booked(hub: Any, row: Row, order: dict[str, Any]) -> dict[str, float]:
    if row.erp == "netsuite":
        return {line["item"]["externalId"]: float(line["quantity"]) for line in order["item"]["items"]}
    return {line["erphub_sku"]: float(line["quantity"]) for line in hub.records("dynamics", "salesorderdetails")
            if line["erphub_externalid"].startswith(order["erphub_externalid"] + "-")}


def closed(row: Row, order: dict[str, Any]) -> bool:
    """Closed: billed to date, nothing further (NetSuite status H; Dynamics fulfilled, statecode 3)."""
    if row.erp == "netsuite":
        return (order.get("orderStatus") or {}).get("id") == "H"
    return order.get("statecode") == 3


def schedule(row: Row, order: dict[str, Any]) -> str:
    """The billing schedule the ERP invoices the order on."""
    if row.erp == "netsuite":
        return order["billingSchedule"]["refName"]
    return order["erphub_billingschedule"]


def erp_customers(hub: Any, row: Row, deal: MatrixDeal) -> list[dict[str, Any]]:
    if row.erp == "netsuite":
        return [c for c in hub.records("netsuite", "customer") if c["externalId"].startswith(f"{deal.account_id}:")]
    return [a for a in hub.records("dynamics", "accounts")
            if str(a.get("accountnumber", "")).startswith(f"{deal.account_id}:")]
