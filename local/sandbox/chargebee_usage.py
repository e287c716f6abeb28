"""Chargebee usages (`POST /api/v2/subscriptions/{id}/usages`) with the rules Chargebee documents: the item price
must be a metered item of the subscription, a usage id is unique (a second one is `duplicate_entry`), there is one
usage per subscription, item price and usage_date, and at most 5000 usages in a subscription's life."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from local.sandbox.core import Request, Response

if TYPE_CHECKING:
    from local.sandbox.chargebee import Chargebee

MAX_USAGES = 5000


def create_usage(vendor: Chargebee, request: Request, subscription_id: str) -> Response:
    from local.sandbox.chargebee import error

    form = dict(request.form())
    with vendor.lock:
        sub = vendor.table("subscription").get(subscription_id)
        if sub is None:
            return error(404, "resource_not_found", f"Sorry, we couldn't find that resource: {subscription_id}",
                         param="subscription_id")
        metered = {t["item_price_id"] for t in sub.get("item_tiers") or []} | {
            i["item_price_id"] for i in sub.get("subscription_items") or [] if i.get("quantity") is None}
        price = form.get("item_price_id", "")
        if price not in metered or price not in {i["item_price_id"] for i in sub.get("subscription_items") or []}:
            return error(400, "invalid_request", f"{price} is not a metered item price of {subscription_id}",
                         param="item_price_id")
        usages = vendor.table("usage")
        usage_id = form.get("id") or f"usage_{uuid.uuid4().hex[:12]}"
        if usage_id in usages:
            return error(400, "duplicate_entry", f"The value {usage_id} is already present.", param="id")
        same_date = [u for u in usages.values() if u["subscription_id"] == subscription_id
                     and u["item_price_id"] == price and u["usage_date"] == int(form.get("usage_date") or 0)]
        if same_date:
            return error(400, "duplicate_entry", "A usage already exists for this item price and usage_date.",
                         param="usage_date")
        if sum(u["subscription_id"] == subscription_id for u in usages.values()) >= MAX_USAGES:
            return error(400, "invalid_request", "The subscription has reached its usage limit.")
        usage = {"id": usage_id, "subscription_id": subscription_id, "item_price_id": price,
                 "quantity": form.get("quantity"), "usage_date": int(form.get("usage_date") or 0),
                 "note": form.get("note"), "source": "api", "object": "usage", "created_at": int(time.time())}
        usages[usage_id] = usage
    return Response(200, {"usage": usage})
