"""Steps several workflow tests share: activate a deal over HTTP and read what each sandbox vendor holds."""

from __future__ import annotations

from typing import Any

from deals import Deal, post


def send_deal(hub: Any, deal: Deal, **fields: Any) -> None:
    status, body = post(hub.gateway, "salesforce", deal.outbound_message(**fields))
    assert status == 200 and "<Ack>true</Ack>" in body, body


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
