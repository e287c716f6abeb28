"""Stripe billing meters and the prices an account creates (metered ones among them), with the rules Stripe
applies: a meter's event name is unique among active meters, a metered price's `recurring.meter` must be an
existing active meter, a lookup key belongs to one price (unless `transfer_lookup_key`), and a tiered price has
graduated or volume tiers whose last one is `up_to=inf`."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from local.sandbox.core import Response, Vendor
from local.sandbox.forms import unflatten
from local.sandbox.stripe_rules import error, invalid


def create_meter(vendor: Vendor, pairs: list[tuple[str, str]]) -> Response:
    params = unflatten(pairs)
    name = str(params.get("event_name") or "")
    with vendor.lock:
        if any(m["event_name"] == name and m["status"] == "active" for m in vendor.table("meter").values()):
            return invalid(f"An active meter with event_name `{name}` already exists.", "event_name")
        meter: dict[str, Any] = {
                 "id": f"mtr_{uuid.uuid4().hex[:14]}", "object": "billing.meter", "created": int(time.time()),
                 "display_name": params.get("display_name"), "event_name": name, "status": "active",
                 "default_aggregation": params.get("default_aggregation") or {},
                 "customer_mapping": params.get("customer_mapping") or {"event_payload_key": "stripe_customer_id",
                                                                         "type": "by_id"},
                 "value_settings": params.get("value_settings") or {"event_payload_key": "value"},
                 "event_time_window": params.get("event_time_window"), "livemode": False}
        vendor.table("meter")[meter["id"]] = meter
    return Response(200, meter)


def list_meters(vendor: Vendor, status: str | None) -> Response:
    with vendor.lock:
        data = [m for m in vendor.table("meter").values() if not status or m["status"] == status]
    return Response(200, {"object": "list", "data": data, "has_more": False, "url": "/v1/billing/meters"})


def _tiers_refused(params: dict[str, Any]) -> Response | None:
    if params.get("billing_scheme") != "tiered":
        if params.get("tiers"):
            return invalid("Tiers can only be specified when billing_scheme is `tiered`.", "tiers")
        return None
    tiers = params.get("tiers") or []
    if not params.get("tiers_mode"):
        return invalid("Missing required param: tiers_mode.", "tiers_mode")
    if len(tiers) < 2 and not (tiers and tiers[0].get("up_to") == "inf"):
        return invalid("You must specify at least one tier with up_to=inf.", "tiers")
    if tiers[-1].get("up_to") != "inf":
        return invalid("The last tier must have up_to set to `inf`.", f"tiers[{len(tiers) - 1}][up_to]")
    bounds = [int(t["up_to"]) for t in tiers[:-1]]
    if bounds != sorted(set(bounds)):
        return invalid("Tiers must be specified in ascending order of up_to.", "tiers")
    return None


def _price(params: dict[str, Any]) -> dict[str, Any]:
    recurring = params.get("recurring")
    if recurring:
        recurring = {"interval": recurring.get("interval"), "interval_count": int(recurring.get("interval_count", 1)),
                     "usage_type": recurring.get("usage_type", "licensed"), "meter": recurring.get("meter")}
    tiers = [{"up_to": None if t.get("up_to") == "inf" else int(t["up_to"]),
              "unit_amount": int(t["unit_amount"]) if t.get("unit_amount") is not None else None,
              "unit_amount_decimal": t.get("unit_amount_decimal") or t.get("unit_amount")}
             for t in params.get("tiers") or []]
    unit = params.get("unit_amount_decimal") or params.get("unit_amount")
    whole = Decimal(unit) if unit is not None else None
    return {"id": f"price_{uuid.uuid4().hex[:14]}", "object": "price", "active": True,
            "currency": str(params["currency"]).lower(), "lookup_key": params.get("lookup_key"),
            "nickname": params.get("nickname"), "product": params.get("product") or f"prod_{uuid.uuid4().hex[:14]}",
            "billing_scheme": params.get("billing_scheme", "per_unit"), "tiers_mode": params.get("tiers_mode"),
            "tiers": tiers or None, "recurring": recurring, "metadata": params.get("metadata") or {},
            "unit_amount": int(whole) if whole is not None and whole == whole.to_integral_value() else None,
            "unit_amount_decimal": unit, "currency_options": {}, "created": int(time.time())}


def create_price(vendor: Vendor, pairs: list[tuple[str, str]]) -> Response:
    params = unflatten(pairs)
    recurring = params.get("recurring") or {}
    try:
        refused = _tiers_refused(params)
        Decimal(str(params.get("unit_amount_decimal") or 0))
    except (InvalidOperation, ValueError):
        return invalid("Invalid decimal or integer in the price amounts.", "unit_amount_decimal")
    if refused is not None:
        return refused
    with vendor.lock:
        meter = recurring.get("meter")
        if meter is not None and vendor.table("meter").get(meter, {}).get("status") != "active":
            return error(400, "invalid_request_error", f"No such billing meter: '{meter}'", "resource_missing",
                         "recurring[meter]")
        if meter is not None and recurring.get("usage_type") != "metered":
            return invalid("A meter can only be set on a price with usage_type `metered`.", "recurring[meter]")
        key = params.get("lookup_key")
        taken = vendor.table("price").get(key) if key else None
        if taken is not None and params.get("transfer_lookup_key") != "true":
            return invalid(f"A price (`{taken['id']}`) already uses that lookup key.", "lookup_key")
        price = _price(params)
        vendor.table("price")[key or price["id"]] = price
    return Response(200, price)


METER_EVENT_MAX_AGE_SECONDS, METER_EVENT_MAX_AHEAD_SECONDS = 35 * 86400, 300


def create_meter_event(vendor: Vendor, pairs: list[tuple[str, str]]) -> Response:
    """A meter event: the meter must be active and the customer must exist (Stripe reports both later, in meter
    error reports; refused here at once), the timestamp within the past 35 days or 5 minutes ahead, and an
    identifier already seen is not counted again (Stripe keeps them unique for at least 24 hours)."""
    params = unflatten(pairs)
    name, payload = str(params.get("event_name") or ""), params.get("payload") or {}
    now = int(time.time())
    moment = int(params.get("timestamp") or now)
    if not now - METER_EVENT_MAX_AGE_SECONDS <= moment <= now + METER_EVENT_MAX_AHEAD_SECONDS:
        return invalid("Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
                       "timestamp")
    with vendor.lock:
        meter = next((m for m in vendor.table("meter").values()
                      if m["event_name"] == name and m["status"] == "active"), None)
        if meter is None:
            return invalid(f"No active meter with event_name `{name}`.", "event_name")
        customer = payload.get(meter["customer_mapping"]["event_payload_key"])
        if customer not in vendor.table("customer"):
            return error(400, "invalid_request_error", f"No such customer: '{customer}'", "resource_missing",
                         "payload")
        value = str(payload.get(meter["value_settings"]["event_payload_key"]) or "")
        if not value.isdigit():
            return invalid("The meter event value must be a whole number.", "payload")
        identifier = str(params.get("identifier") or f"evt_{uuid.uuid4().hex}")
        seen = vendor.table("meter_event").get(identifier)
        if seen is not None:
            return Response(200, {k: v for k, v in seen.items() if k != "meter"})
        event = {"object": "billing.meter_event", "created": now, "event_name": name, "identifier": identifier,
                 "livemode": False, "payload": payload, "timestamp": moment, "meter": meter["id"]}
        vendor.table("meter_event")[identifier] = event
    return Response(200, {k: v for k, v in event.items() if k != "meter"})
