"""The ERP rows of the vendor matrix (issue 15): SAP S/4HANA Cloud and Oracle Fusion Cloud ERP, and how a person
reads the deal's customers and sales orders in each (what the e2e rows and their demo run check)."""

from __future__ import annotations

from typing import Any

from matrix import MatrixDeal, Row

from erphub.connectors.base import short_key

ROWS = [Row("hubspot", "stripe", "gainsight", "sap"), Row("salesforce", "chargebee", "gainsight", "oracle")]


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
