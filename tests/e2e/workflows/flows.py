"""Steps several workflow tests share: activate a deal over HTTP and read what each sandbox vendor holds."""

from __future__ import annotations

from typing import Any

from deals import Deal, annual_deal_items, post


def send_deal(hub: Any, deal: Deal, **fields: Any) -> None:
    status, body = post(hub.gateway, "salesforce", deal.outbound_message(**fields))
    assert status == 200 and "<Ack>true</Ack>" in body, body



def send_unaligned_renewal(hub: Any, deal: Deal) -> str:
    """Renew the deal with a product (SSO) billing has no price for: the renewal waits for billing alignment."""
    renewal_id = f"{deal.opportunity_id}R"
    items = [*annual_deal_items(), {"sku": "SSO", "name": "SSO", "quantity": 1, "unit_price": "5000",
                                    "legal_entity_id": "LE-US"}]
    send_deal(hub, deal, Id=renewal_id, Type="Renewal", Previous_Opportunity__c=deal.opportunity_id,
              Term_Start__c="2025-06-01", Term_End__c="2026-05-31", Line_Items__c=items,
              LastModifiedDate="2025-05-15T10:00:00.000Z")
    return renewal_id

def activate(hub: Any, label: str = "Acme", **fields: Any) -> tuple[Deal, dict]:
    """A closed-won deal for two legal entities, activated everywhere."""
    deal = Deal(label)
    seed_crm(hub, deal)
    send_deal(hub, deal, **fields)
    execution = hub.execution("activation", deal.opportunity_id)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    return deal, execution


def correlation(deal: Deal) -> str:
    return f"contract:salesforce:{deal.opportunity_id}"


def subscriptions(hub: Any, deal: Deal) -> list[dict[str, Any]]:
    return [s for s in hub.records("stripe", "subscription")
            if (s.get("metadata") or {}).get("contract_id") == deal.opportunity_id]


def billing_customers(hub: Any, deal: Deal) -> list[dict[str, Any]]:
    return [c for c in hub.records("stripe", "customer")
            if str((c.get("metadata") or {}).get("erphub_key", "")).startswith(f"{deal.account_id}:")]


def erp_customers(hub: Any, deal: Deal) -> list[dict[str, Any]]:
    return [c for c in hub.records("netsuite", "customer") if c["externalId"].startswith(f"{deal.account_id}:")]


def sales_orders(hub: Any, deal: Deal) -> list[dict[str, Any]]:
    return [o for o in hub.records("netsuite", "salesOrder") if o.get("otherRefNum") == deal.opportunity_id]


def crm_account(hub: Any, deal: Deal) -> dict[str, Any]:
    return next(a for a in hub.records("salesforce", "Account") if a["Id"] == deal.account_id)


def seed_crm(hub: Any, deal: Deal) -> None:
    hub.sandbox.seed("salesforce", "Account", {"Id": deal.account_id, "Name": deal.name, "OwnerId": "005OWNER"})
