"""Zuora's product catalog as the connector reads it (`GET /v1/catalog/products`, paged by `nextPage`): a product
per SKU, a rate plan per billing period, and the charge overrides an order sends: a licensed item's quantity on its
per-unit recurring charge, a usage item's terms on its usage charge (charge model Overage: included units, then
the overage price per unit of measure)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.errors import ValidationFailed

if TYPE_CHECKING:
    from erphub.connectors.zuora import ZuoraBilling

PERIODS = {"monthly": "Month", "quarterly": "Quarter", "semiannual": "Semi_Annual", "annual": "Annual"}


def usage_terms(charge: dict[str, Any]) -> UsageTerms | None:
    """The usage terms of a subscription's usage charge (model Overage), None for any other charge."""
    if charge.get("type") != "Usage" or charge.get("overagePrice") is None:
        return None
    return UsageTerms(metric=str(charge.get("name") or charge.get("uom") or "usage"), unit=str(charge.get("uom")
                      or "unit"), included_quantity=Decimal(str(charge.get("includedUnits") or 0)),
                      overage_unit_price=Decimal(str(charge["overagePrice"])),
                      currency=str(charge["currency"]).upper() if charge.get("currency") else None)


def charge_override(charge: dict[str, Any], item: SubscriptionItem, currency: str) -> dict[str, Any]:
    """What an order sets on one charge of a rate plan for this item."""
    override: dict[str, Any] = {"productRatePlanChargeId": charge["id"]}
    if charge.get("type") == "Usage":
        usage = item.usage
        if usage is None:
            raise ValidationFailed(f"zuora {item.sku} is billed on usage: the deal gives no usage terms",
                                   system="zuora", record=item.sku)
        if usage.currency and usage.currency != currency.upper():
            raise ValidationFailed(f"usage {usage.metric} is priced in {usage.currency}, the account bills in "
                                   f"{currency}", system="zuora", record=item.sku)
        override["pricing"] = {"usageOverage": {"includedUnits": float(usage.included_quantity),
                                                "overagePrice": float(usage.overage_unit_price)}}
    elif charge.get("model") == "PerUnit":
        override["pricing"] = {"recurringPerUnit": {"quantity": float(item.quantity)}}
    return override


class Catalog:
    """The tenant's catalog, read once per connector (a warm Lambda keeps it; catalog changes need a new one)."""

    def __init__(self, zuora: ZuoraBilling) -> None:
        self.zuora = zuora
        self._products: dict[str, dict[str, Any]] | None = None

    def products(self) -> dict[str, dict[str, Any]]:
        if self._products is None:
            products, page = {}, 1
            while page:
                body = self.zuora.call("GET", "/v1/catalog/products", params={"page": page, "pageSize": 40})
                for product in body.get("products") or []:
                    if product.get("sku"):
                        products[product["sku"]] = product
                page = page + 1 if body.get("nextPage") else 0
            self._products = products
        return self._products

    def rate_plan(self, sku: str, frequency: str) -> dict[str, Any]:
        """{"id", "charges"}: the product's active rate plan whose charges bill on the frequency's period."""
        product = self.products().get(sku)
        if product is None:
            raise ValidationFailed(f"zuora has no product with sku {sku}", system="zuora", record=sku)
        period = PERIODS[frequency]
        for plan in product.get("productRatePlans") or []:
            charges = plan.get("productRatePlanCharges") or []
            if plan.get("status", "Active") == "Active" and charges and all(
                    c.get("billingPeriod") == period for c in charges):
                return {"id": plan["id"], "charges": charges}
        raise ValidationFailed(f"zuora product {sku} has no rate plan billed {period}", system="zuora", record=sku)
