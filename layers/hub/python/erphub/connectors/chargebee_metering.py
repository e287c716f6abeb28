"""A closed usage period's total as one Chargebee usage (`POST /api/v2/subscriptions/{id}/usages`) on the
subscription's metered item price: Chargebee invoices it in arrears with the item tiers (included units free,
then the overage price). The usage's `id` is the period's key, so a retried report is refused as a duplicate
rather than counted twice (and read back), and its `usage_date` is the period's last second."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from erphub.connectors.base import external_key
from erphub.errors import Conflict, NotFound

if TYPE_CHECKING:
    from erphub.connectors.chargebee import ChargebeeBilling

USAGE_ID_MAX = 100


class ChargebeeMetering:
    def __init__(self, chargebee: ChargebeeBilling) -> None:
        self.chargebee = chargebee

    def report(self, subscription_id: str, metric: str, quantity: Decimal, period_end: date,
               idempotency_key: str, sku: str | None = None) -> dict[str, Any]:
        sub = self.chargebee._get(f"/subscriptions/{subscription_id}", record=subscription_id)["subscription"]
        metered = {t["item_price_id"] for t in sub.get("item_tiers") or []}
        price = next((i["item_price_id"] for i in sub.get("subscription_items") or []
                      if i["item_price_id"] in metered and (sku is None or i["item_price_id"].startswith(f"{sku}-"))),
                     None)
        if price is None:
            raise NotFound(f"chargebee subscription {subscription_id} has no metered item price for {metric}",
                           system="chargebee", record=subscription_id)
        usage_id = external_key(idempotency_key, USAGE_ID_MAX)
        moment = int(datetime.combine(period_end, time(0), tzinfo=UTC).timestamp()) - 1
        form = [("id", usage_id), ("item_price_id", price), ("quantity", format(quantity.normalize(), "f")),
                ("usage_date", str(moment)), ("note", f"erphub {metric} total")]
        # a Conflict (duplicate_entry): the usage id exists, an earlier attempt recorded it and its answer was lost
        with contextlib.suppress(Conflict):
            self.chargebee._post(f"/subscriptions/{subscription_id}/usages", form, idempotency_key,
                                 f"usage/{usage_id}")
        return {"customer_id": sub["customer_id"], "currency": str(sub.get("currency_code") or "").upper(),
                "reference": usage_id}
