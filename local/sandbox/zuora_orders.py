"""The Zuora sandbox's Orders API: an order's subscription actions are applied all or nothing, with the rules
Zuora applies (an existing account, charges priced in the account's currency, usage charges priced by included
units and overage price, never by a quantity; no change to a cancelled subscription or a removed rate plan), and
usage records (CRUD `POST /v1/object/usage`) only on a subscription's usage charge."""

from __future__ import annotations

import calendar
import copy
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from local.sandbox.core import Request, Response

if TYPE_CHECKING:
    from local.sandbox.zuora import Zuora


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    last = calendar.monthrange(day.year + year, month + 1)[1]
    return day.replace(year=day.year + year, month=month + 1, day=min(day.day, last))


class Orders:
    def __init__(self, zuora: Zuora) -> None:
        self.zuora = zuora

    def _plan(self, plan_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for product in self.zuora.products:
            for plan in product["productRatePlans"]:
                if plan["id"] == plan_id:
                    return product, plan
        raise Refused(53100140, f"Cannot find product rate plan by id: '{plan_id}'.")

    def _charge(self, template: dict[str, Any], override: dict[str, Any], currency: str) -> dict[str, Any]:
        priced = next((p for p in template["pricing"] if p["currency"] == currency), None)
        if priced is None:
            raise Refused(53100020, f"The currency {currency} is not supported by product rate plan charge "
                                    f"{template['id']}.")
        pricing = override.get("pricing") or {}
        charge = {"id": uuid.uuid4().hex, "number": f"C-{uuid.uuid4().int % 10**8:08d}", "name": template["name"],
                  "type": template["type"], "model": template["model"], "uom": template["uom"],
                  "billingPeriod": template["billingPeriod"], "currency": currency,
                  "productRatePlanChargeId": template["id"]}
        if template["type"] == "Usage":
            if "recurringPerUnit" in pricing:
                raise Refused(53100320, "Invalid pricing recurringPerUnit for a charge of model Overage: a usage "
                                        "charge is priced by includedUnits and overagePrice.")
            overage = pricing.get("usageOverage") or {}
            charge.update(includedUnits=overage.get("includedUnits", priced.get("includedUnits", 0)),
                          overagePrice=overage.get("overagePrice", priced.get("overagePrice")))
        else:
            if "usageOverage" in pricing:
                raise Refused(53100320, f"Invalid pricing usageOverage for a charge of model {template['model']}.")
            charge.update(quantity=(pricing.get("recurringPerUnit") or {}).get("quantity", 1),
                          price=priced["price"])
        return charge

    def _rate_plan(self, entry: dict[str, Any], currency: str) -> dict[str, Any]:
        product, plan = self._plan(str(entry.get("productRatePlanId")))
        overrides = {o.get("productRatePlanChargeId"): o for o in entry.get("chargeOverrides") or []}
        unknown = set(overrides) - {c["id"] for c in plan["productRatePlanCharges"]}
        if unknown:
            raise Refused(53100140, f"Cannot find product rate plan charge by id: '{sorted(unknown)[0]}'.")
        return {"id": uuid.uuid4().hex, "productId": product["id"], "productSku": product["sku"],
                "productRatePlanId": plan["id"], "ratePlanName": plan["name"], "lastChangeType": "Add",
                "ratePlanCharges": [self._charge(c, overrides.get(c["id"], {}), currency)
                                    for c in plan["productRatePlanCharges"]]}

    def _new(self, account: dict[str, Any], action: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
        create = action.get("createSubscription") or {}
        initial = (create.get("terms") or {}).get("initialTerm") or {}
        start = date.fromisoformat(initial.get("startDate") or action["triggerDates"][0]["triggerDate"])
        number = f"A-S{len(self.zuora.table('subscription')) + 1:08d}"
        return {"id": uuid.uuid4().hex, "subscriptionNumber": number, "accountNumber": account["accountNumber"],
                "accountId": account["id"], "status": "Active", "currency": account["currency"],
                "termType": initial.get("termType", "TERMED"), "termStartDate": start.isoformat(),
                "termEndDate": add_months(start, int(initial.get("period", 12))).isoformat(),
                "contractEffectiveDate": start.isoformat(), "cancelledDate": None, **custom,
                "ratePlans": [self._rate_plan(e, account["currency"]) for e in create.get("subscribeToRatePlans")
                              or []]}

    def _apply(self, sub: dict[str, Any], action: dict[str, Any]) -> None:
        kind = action.get("type")
        if sub["status"] == "Cancelled":
            raise Refused(53200030, f"The subscription {sub['subscriptionNumber']} is cancelled.")
        plans = {p["id"]: p for p in sub["ratePlans"] if p["lastChangeType"] != "Remove"}
        if kind == "AddProduct":
            sub["ratePlans"].append(self._rate_plan(action.get("addProduct") or {}, sub["currency"]))
        elif kind in ("UpdateProduct", "RemoveProduct"):
            detail = action.get("updateProduct" if kind == "UpdateProduct" else "removeProduct") or {}
            plan = plans.get(str(detail.get("ratePlanId")))
            if plan is None:
                raise Refused(53200040, f"Cannot find rate plan by id: '{detail.get('ratePlanId')}'.")
            if kind == "RemoveProduct":
                plan["lastChangeType"] = "Remove"
            for update in detail.get("chargeUpdates") or []:
                charge = next((c for c in plan["ratePlanCharges"] if c["number"] == update.get("chargeNumber")), None)
                if charge is None or charge["type"] == "Usage":
                    raise Refused(53200020, f"Invalid charge for a quantity update: '{update.get('chargeNumber')}'.")
                charge["quantity"] = ((update.get("pricing") or {}).get("recurringPerUnit") or {}).get(
                    "quantity", charge["quantity"])
                plan["lastChangeType"] = "Update"
        elif kind == "CancelSubscription":
            policy = action.get("cancelSubscription") or {}
            if policy.get("cancellationPolicy") == "EndOfCurrentTerm":
                sub["cancelledDate"] = sub["termEndDate"]
            else:
                sub.update(status="Cancelled", cancelledDate=policy.get("cancellationEffectiveDate"))

    def create(self, request: Request) -> Response:
        from local.sandbox.zuora import failure

        body = request.json() or {}
        with self.zuora.lock:
            account = self.zuora.account(str(body.get("existingAccountNumber")))
            if account is None:
                return failure(50000040, f"Cannot find entity by key: '{body.get('existingAccountNumber')}'.")
            subscriptions = self.zuora.table("subscription")
            changed: dict[str, dict[str, Any]] = {}
            try:
                for entry in body.get("subscriptions") or []:
                    custom = {k: v for k, v in (entry.get("customFields") or {}).items() if k.endswith("__c")}
                    actions = entry.get("orderActions") or []
                    if actions and actions[0].get("type") == "CreateSubscription":
                        sub = self._new(account, actions[0], custom)
                        actions = actions[1:]
                    else:
                        number = str(entry.get("subscriptionNumber"))
                        if number not in subscriptions:
                            raise Refused(53200040, f"Cannot find subscription by number: '{number}'.")
                        sub = copy.deepcopy(changed.get(number) or subscriptions[number])
                        sub.update(custom)
                    for action in actions:
                        self._apply(sub, action)
                    changed[sub["subscriptionNumber"]] = sub
            except Refused as refused:  # an order is applied whole or not at all
                return failure(refused.code, refused.message)
            subscriptions.update(changed)
            order = f"O-{len(self.zuora.table('order')) + 1:08d}"
            self.zuora.table("order")[order] = {"orderNumber": order, "accountNumber": account["accountNumber"],
                                                "subscriptionNumbers": sorted(changed)}
        return Response(200, {"success": True, "orderNumber": order, "accountNumber": account["accountNumber"],
                              "status": "Completed", "subscriptionNumbers": sorted(changed),
                              "subscriptions": [{"subscriptionNumber": n, "status": changed[n]["status"]}
                                                for n in sorted(changed)]})

    def create_usage(self, request: Request) -> Response:
        body = request.json() or {}
        with self.zuora.lock:
            sub = self.zuora.table("subscription").get(str(body.get("SubscriptionNumber")))
            charges = [c for p in (sub or {}).get("ratePlans", []) for c in p["ratePlanCharges"]]
            charge = next((c for c in charges if c["number"] == body.get("ChargeNumber")), None)
            if sub is None or charge is None or charge["type"] != "Usage":
                return Response(200, {"Success": False, "Errors": [
                    {"Code": "INVALID_VALUE", "Message": "The subscription has no usage charge with that number."}]})
            if charge["uom"] != body.get("UOM"):
                return Response(200, {"Success": False, "Errors": [
                    {"Code": "INVALID_VALUE", "Message": f"The UOM {body.get('UOM')} is not the charge's."}]})
            usage_id = uuid.uuid4().hex
            self.zuora.table("usage")[usage_id] = {"Id": usage_id, **body}
        return Response(200, {"Success": True, "Id": usage_id})
