"""Stripe's documented business rules for subscriptions, which the sandbox enforces as Stripe does: one currency
per customer, every price available in the subscription's currency, one billing interval per subscription, no
quantity on a metered price, and billing anchored at creation unless backdate_start_date / billing_cycle_anchor
say otherwise (stripe.com/docs/billing/subscriptions/billing-cycle and .../backdating)."""

from __future__ import annotations

import calendar
import uuid
from datetime import UTC, datetime
from typing import Any

from local.sandbox.core import Response


def error(status: int, type_: str, message: str, code: str | None = None, param: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return Response(status, {"error": body}, {"Request-Id": f"req_{uuid.uuid4().hex[:14]}", **(headers or {})})


def invalid(message: str, param: str | None = None, code: str | None = None) -> Response:
    return error(400, "invalid_request_error", message, code, param)


def supports(price: dict[str, Any], currency: str) -> bool:
    return price["currency"] == currency or currency in (price.get("currency_options") or {})


def unit_amount(price: dict[str, Any], currency: str) -> int:
    option = price if price["currency"] == currency else (price.get("currency_options") or {}).get(currency, {})
    return int(option.get("unit_amount") or 0)


def check_items(items: list[dict[str, Any]], currency: str) -> Response | None:
    """The prices of one subscription: all in its currency, all on one interval, metered ones without quantity."""
    for index, item in enumerate(items):
        price = item["price"]
        if not supports(price, currency):
            return invalid(f"The price specified ({price['id']}) does not support currency `{currency}`.",
                           f"items[{index}][price]")
        if price["recurring"]["usage_type"] == "metered" and item.get("quantity") is not None:
            return invalid("Quantity should not be specified where usage_type is `metered`. Remove quantity from "
                           f"`line_items[{index}]`.", f"items[{index}][quantity]")
    intervals = {(i["price"]["recurring"]["interval"], i["price"]["recurring"]["interval_count"]) for i in items}
    if len(intervals) > 1:
        return invalid("Currency and interval fields must match across all plans on this subscription. Found "
                       "mismatch in interval field.")
    return None


def check_customer_currency(customer: dict[str, Any], currency: str) -> Response | None:
    if customer.get("currency") and customer["currency"] != currency:
        return invalid("You cannot combine currencies on a single customer. This customer has an active "
                       f"subscription, subscription schedule, discount, quote, or invoice item with currency "
                       f"{customer['currency']}.", "currency")
    return None


def add_interval(timestamp: int, interval: str, count: int, times: int = 1) -> int:
    """Stripe's calendar arithmetic: a month later is the same day, or the month's last day if it is shorter."""
    when = datetime.fromtimestamp(timestamp, UTC)
    months = (12 if interval == "year" else 1) * count * times
    year, month = divmod(when.month - 1 + months, 12)
    day = min(when.day, calendar.monthrange(when.year + year, month + 1)[1])
    return int(when.replace(year=when.year + year, month=month + 1, day=day).timestamp())


def periods(params: dict[str, Any], items: list[dict[str, Any]], now: int) -> dict[str, int] | Response:
    """start_date, billing_cycle_anchor and the current period of a new subscription. Without an anchor, billing
    is anchored at creation (a backdated start only prorates the time before it); an anchor must be in the future
    and no later than the next natural billing date."""
    recurring: dict[str, Any] = items[0]["price"]["recurring"] if items else {"interval": "year", "interval_count": 1}
    natural = add_interval(now, recurring["interval"], recurring["interval_count"])
    backdate = int(params["backdate_start_date"]) if params.get("backdate_start_date") else None
    anchor = int(params["billing_cycle_anchor"]) if params.get("billing_cycle_anchor") else None
    if backdate is not None and backdate > now:
        return invalid("backdate_start_date must be in the past.", "backdate_start_date")
    if anchor is not None and anchor <= now:
        return invalid("billing_cycle_anchor must be a future timestamp.", "billing_cycle_anchor")
    if anchor is not None and anchor > natural:
        return invalid(f"billing_cycle_anchor cannot be later than next natural billing date ({natural}) for plan",
                       "billing_cycle_anchor")
    return {"start_date": backdate or now, "billing_cycle_anchor": anchor or now,
            "current_period_start": (backdate or now) if anchor else now,
            "current_period_end": anchor or natural}
