"""The ERP rows of the vendor matrix (issue 15): HubSpot + Stripe + Totango + SAP S/4HANA Cloud and Salesforce +
Chargebee + Gainsight + Oracle Fusion Cloud ERP, how a person reads the deal's customers and sales orders in each
ERP and its account in customer success, and the cancellation each row's customer success asks for (what the e2e
rows and their demo run check)."""

from __future__ import annotations

import json
from typing import Any

from deals import post
from matrix import MatrixDeal, Row, cancel

from erphub.connectors.base import short_key

ROWS = [Row("hubspot", "stripe", "totango", "sap"), Row("salesforce", "chargebee", "gainsight", "oracle")]


# --- what the ERP holds, read as a person reads its screens --------------------------------------------------
def erp_customers(hub: Any, row: Row, deal: MatrixDeal) -> dict[str, dict[str, Any]]:
    """The deal's ERP customers by legal entity (SAP: business partners by their fitted external key)."""
    keys = {e["entity_id"]: f"{deal.account_id}:{e['entity_id']}" for e in deal.entities}
    if row.erp == "sap":
        partners = {p["BusinessPartnerIDByExtSystem"]: p for p in hub.records("sap", "A_BusinessPartner")}
        return {e: partners[short_key(k, 20)] for e, k in keys.items() if short_key(k, 20) in partners}
    accounts = {a["SourceSystemReferenceValue"]: a for a in hub.records("oracle", "accounts")}
    return {e: accounts[k] for e, k in keys.items() if k in accounts}


def all_customers(hub: Any, row: Row, deal: MatrixDeal) -> int:
    """Every ERP customer record whose name is one of the deal's entities (a duplicate would show here)."""
    names = {e["name"][:40] for e in deal.entities}
    if row.erp == "sap":
        return len([p for p in hub.records("sap", "A_BusinessPartner") if p.get("OrganizationBPName1") in names])
    return len([a for a in hub.records("oracle", "accounts") if a.get("OrganizationName") in names])


def sales_orders(hub: Any, row: Row, deal: MatrixDeal, contract: str = "") -> dict[str, dict[str, Any]]:
    """The orders of a contract by legal entity: SAP keeps the contract in AssignmentReference and the entity as
    the sales organization, Oracle in CustomerPONumber and the business unit."""
    contract, entity_of = contract or deal.opportunity_id, {e["subsidiary"]: e["entity_id"] for e in deal.entities}
    if row.erp == "sap":
        found = [(o["SalesOrganization"], o) for o in hub.records("sap", "A_SalesOrder")
                 if o.get("AssignmentReference") == contract[:18]]
    else:
        found = [(o["BusinessUnitName"], o) for o in hub.records("oracle", "salesOrdersForOrderHub")
                 if o.get("CustomerPONumber") == contract]
    orders = {entity_of[unit]: order for unit, order in found}
    assert len(orders) == len(found), f"two orders of {contract} for one entity: {found}"
    return orders


def booked(row: Row, order: dict[str, Any]) -> dict[str, float]:
    """{sku: quantity} of the open lines (SAP: items not rejected; Oracle: lines not cancelled)."""
    if row.erp == "sap":
        return {i["Material"]: float(i["RequestedQuantity"]) for i in order["to_Item"]
                if not i["SalesDocumentRjcnReason"]}
    return {line["ProductNumber"]: float(line["OrderedQuantity"]) for line in order["lines"]
            if line["StatusCode"] != "CANCELED"}


def closed(row: Row, order: dict[str, Any]) -> bool:
    """Nothing further: SAP rejected every item with the close reason, Oracle cancelled every line."""
    if row.erp == "sap":
        return order["OverallSDDocumentRejectionSts"] == "C" and {i["SalesDocumentRjcnReason"]
                                                                  for i in order["to_Item"]} == {"10"}
    return order["StatusCode"] == "CLOSED" and {line["CancelReason"] for line in order["lines"]} == {"CUSTOMER_REQUEST"}


def sold_to(row: Row, order: dict[str, Any]) -> str:
    return order["SoldToParty"] if row.erp == "sap" else order["BuyingPartyNumber"]


def customer_number(row: Row, customer: dict[str, Any]) -> str:
    return customer["BusinessPartner"] if row.erp == "sap" else customer["PartyNumber"]


# --- customer success: the account, and the cancellation it asks for -----------------------------------------
def success_account(hub: Any, row: Row, deal: MatrixDeal) -> dict[str, Any]:
    """The deal's one account in customer success (Totango: by its account id; Gainsight: the company linked to
    the CRM account); two would fail here."""
    if row.success == "totango":
        [account] = [a for a in hub.records("totango", "account") if a["account_id"] == deal.account_id]
        return dict(account)
    [company] = [c for c in hub.records("gainsight", "Company") if c.get("Crm_Account_Id__gc") == deal.account_id]
    return dict(company)


def cancel_from_success(hub: Any, row: Row, deal: MatrixDeal, effective: str) -> dict[str, Any]:
    """The row's customer success asks to cancel the contract (Totango's SuccessPlay webhook, else Gainsight's)."""
    if row.success != "totango":
        return cancel(hub, deal, effective)
    body = {"eventId": f"{deal.n}-cancel", "eventType": "cancellation_requested", "occurredAt": "2024-09-02T06:00:00Z",
            "account": {"id": deal.account_id, "name": deal.name, "crmAccountId": deal.account_id,
                        "crmSystem": deal.crm},
            "contractId": deal.opportunity_id, "effective": effective, "reason": "Consolidating vendors"}
    status, text = post(hub.gateway, "totango", json.dumps(body).encode())
    assert status == 202, text
    return hub.latest("cancellation", deal.account_id, timeout=45)
