"""Chargebee API v2 (product catalog 2.0): basic auth with the API key, form-encoded customers and
subscriptions (`subscription_items[item_price_id][0]`), the chargebee-idempotency-key header replayed,
caller-chosen ids (a second create with the same id is 400 duplicate_entry), and Chargebee's error bodies."""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from typing import Any

from local.sandbox import catalog, chargebee_usage
from local.sandbox.core import IdempotencyCache, Request, Response, Vendor, path_parts, retry_after_headers

ITEM_PRICE = re.compile(r"^(.+)-([A-Z]{3})-(Monthly|Yearly|Every-3-months|Every-6-months)$")
_INDEXED = re.compile(r"^subscription_items\[(\w+)\]\[(\d+)\]$")
_TIERS = re.compile(r"^item_tiers\[(\w+)\]\[(\d+)\]$")
FREQUENCIES = {"Monthly": "monthly", "Every-3-months": "quarterly", "Every-6-months": "semiannual", "Yearly": "annual"}


def catalog_item_price(item_price_id: str) -> tuple[str, int] | None:
    """(item type, unit price in cents) of an item price the site's catalog holds; None if it holds none."""
    found = ITEM_PRICE.match(item_price_id)
    if found is None or found.group(1) not in catalog.CATALOG or found.group(2).lower() not in catalog.CURRENCIES:
        return None
    sku, currency, frequency = found.group(1), found.group(2), FREQUENCIES[found.group(3)]
    return ("metered" if catalog.metered(sku) else "licensed",
            int(catalog.unit_amount(sku, currency, frequency)))


MONTHS = {"Monthly": 1, "Every-3-months": 3, "Every-6-months": 6, "Yearly": 12}


def current_term(start: int, items: list[dict[str, Any]], now: int) -> dict[str, int]:
    """A backdated subscription keeps the cycle of its start_date: Chargebee renews it term by term up to today,
    so the current term is the one on that cycle that contains now (a future start: its first term)."""
    found = ITEM_PRICE.match(items[0]["item_price_id"]) if items else None
    step = MONTHS[found.group(3)] if found else 12
    begin, periods = datetime.fromtimestamp(start, UTC), 0

    def boundary(n: int) -> int:
        month = begin.month - 1 + n * step
        day = min(begin.day, calendar.monthrange(begin.year + month // 12, month % 12 + 1)[1])
        return int(begin.replace(year=begin.year + month // 12, month=month % 12 + 1, day=day).timestamp())

    while boundary(periods + 1) <= now:
        periods += 1
    return {"current_term_start": boundary(periods), "current_term_end": boundary(periods + 1)}


def error(status: int, code: str, message: str, type_: str = "invalid_request", param: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"message": message, "type": type_, "api_error_code": code, "error_code": code,
                            "error_msg": message, "http_status_code": status}
    if param:
        body["param"] = param
    return Response(status, body, headers or {})


def items_from(form: list[tuple[str, str]], pattern: re.Pattern[str] = _INDEXED) -> list[dict[str, str]]:
    rows: dict[int, dict[str, str]] = {}
    for name, value in form:
        found = pattern.match(name)
        if found:
            rows.setdefault(int(found.group(2)), {})[found.group(1)] = value
    return [rows[i] for i in sorted(rows)]


class Chargebee(Vendor):
    name = "chargebee"

    def __init__(self) -> None:
        super().__init__()
        self.api_key = "test_cbSandboxKey0000erphub"
        self.idempotency = IdempotencyCache()

    def credentials(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "site": "erphub-test"}

    def reset(self) -> None:
        super().reset()
        self.idempotency.clear()

    def authenticate(self, request: Request) -> Response | None:
        if request.basic_user() != self.api_key:
            return error(401, "api_authentication_failed", "Sorry, authentication failed. Invalid api key")
        return None

    def route(self, request: Request) -> tuple[str, Any] | None:
        parts, method = path_parts(request.path), request.method
        if parts[:2] != ["api", "v2"] or len(parts) < 3:
            return None
        rest = parts[2:]
        routes = {
            ("customers", 1, "POST"): ("customer.create", self.create_customer),
            ("customers", 2, "GET"): ("customer.get", lambda r: self.get("customer", rest[1])),
            ("customers", 2, "POST"): ("customer.update", lambda r: self.update_customer(r, rest[1])),
            ("subscriptions", 2, "GET"): ("subscription.get", lambda r: self.get("subscription", rest[1])),
            ("invoices", 1, "GET"): ("invoice.list", self.list_invoices),
        }
        found = routes.get((rest[0], len(rest), method))
        if len(rest) == 3 and method == "POST":
            action = {("customers", "subscription_for_items"): ("subscription.create",
                                                                 lambda r: self.create_subscription(r, rest[1])),
                      ("subscriptions", "update_for_items"): ("subscription.update",
                                                              lambda r: self.update_subscription(r, rest[1])),
                      ("subscriptions", "cancel_for_items"): ("subscription.cancel",
                                                              lambda r: self.cancel(r, rest[1])),
                      ("subscriptions", "usages"): ("usage.create",
                                                    lambda r: chargebee_usage.create_usage(self, r, rest[1]))}
            found = action.get((rest[0], rest[2]))
        if found is None:
            return None
        operation, handler = found
        key = request.header("chargebee-idempotency-key")
        if method == "POST" and key:
            return operation, lambda r: self.idempotency.run(
                key, r, handler,
                lambda: error(409, "invalid_request", "The idempotency key was used with a different request."),
                lambda: error(409, "invalid_request", "A request with this idempotency key is in progress."))
        return operation, handler

    def _missing(self, kind: str, object_id: str) -> Response:
        return error(404, "resource_not_found", f"Sorry, we couldn't find that resource: {kind} {object_id}",
                     param="id")

    def get(self, kind: str, object_id: str) -> Response:
        with self.lock:
            record = self.table(kind).get(object_id)
            if record is None:
                return self._missing(kind, object_id)
            if kind == "subscription":
                customer = self.table("customer")[record["customer_id"]]
                return Response(200, {"subscription": record, "customer": customer})
            return Response(200, {"customer": record})

    def create_customer(self, request: Request) -> Response:
        form = dict(request.form())
        customer_id = form.pop("id", None) or f"cb_{int(time.time() * 1000)}"
        with self.lock:
            if customer_id in self.table("customer"):
                return error(400, "duplicate_entry", f"The value {customer_id} is already present.", param="id")
            customer = {"id": customer_id, "object": "customer", "auto_collection": "on", "net_term_days": 0,
                        "created_at": int(time.time()), "deleted": False, **form}
            self.table("customer")[customer_id] = customer
        return Response(200, {"customer": customer})

    def update_customer(self, request: Request, customer_id: str) -> Response:
        form = dict(request.form())
        with self.lock:
            customer = self.table("customer").get(customer_id)
            if customer is None:
                return self._missing("customer", customer_id)
            if form.get("auto_collection") not in (None, "on", "off"):
                return error(400, "param_wrong_value", "auto_collection : invalid value", param="auto_collection")
            if "net_term_days" in form:
                form["net_term_days"] = int(form["net_term_days"])  # type: ignore[assignment]
            customer.update(form)
            return Response(200, {"customer": customer})

    def _items(self, rows: list[dict[str, str]]) -> list[dict[str, Any]] | Response:
        items = []
        for index, row in enumerate(rows):
            price = catalog_item_price(row.get("item_price_id", ""))
            if price is None:  # the site's catalog has no such item price: nothing is invented
                return error(404, "resource_not_found", f"item_price_id {row.get('item_price_id')} not found",
                             param=f"subscription_items[item_price_id][{index}]")
            usage, unit_price = price
            quantity = int(float(row["quantity"])) if "quantity" in row else None if usage == "metered" else 1
            items.append({"item_price_id": row["item_price_id"], "item_type": "plan" if index == 0 else "addon",
                          "quantity": quantity, "unit_price": unit_price, "metered": usage == "metered",
                          "amount": 0 if usage == "metered" else (quantity or 0) * unit_price})
        return items

    @staticmethod
    def _tiers(form: list[tuple[str, str]], items: list[dict[str, Any]]) -> list[dict[str, Any]] | Response:
        """Item tiers of a subscription: only on its metered item prices, each price's tiers from unit 1 on,
        contiguous, the last one open-ended."""
        tiers: list[dict[str, Any]] = [
                 {"item_price_id": t.get("item_price_id"), "starting_unit": int(t.get("starting_unit", "0")),
                  "ending_unit": int(t["ending_unit"]) if "ending_unit" in t else None,
                  "price_in_decimal": t.get("price_in_decimal"), "price": int(t.get("price", "0"))}
                 for t in items_from(form, _TIERS)]
        metered = {i["item_price_id"] for i in items if i["metered"]}
        for price_id in {t["item_price_id"] for t in tiers}:
            if price_id not in metered:
                return error(400, "param_wrong_value", f"item_tiers for {price_id}: not a tiered item price of "
                             "this subscription", param="item_tiers[item_price_id]")
            mine = sorted((t for t in tiers if t["item_price_id"] == price_id), key=lambda t: t["starting_unit"])
            expected = 1
            for tier in mine:
                if tier["starting_unit"] != expected or (tier is not mine[-1] and tier["ending_unit"] is None):
                    return error(400, "param_wrong_value", f"item_tiers for {price_id} must start at 1 and be "
                                 "contiguous", param="item_tiers[starting_unit]")
                expected = (tier["ending_unit"] or 0) + 1
            if mine[-1]["ending_unit"] is not None:
                return error(400, "param_wrong_value", f"the last tier of {price_id} must have no ending_unit",
                             param="item_tiers[ending_unit]")
        return tiers

    def create_subscription(self, request: Request, customer_id: str) -> Response:
        form = request.form()
        fields = dict(form)
        with self.lock:
            customer = self.table("customer").get(customer_id)
            if customer is None:
                return self._missing("customer", customer_id)
            subscription_id = fields.get("id") or f"sub_{int(time.time() * 1000)}"
            if subscription_id in self.table("subscription"):
                return error(400, "duplicate_entry", f"The value {subscription_id} is already present.", param="id")
            items = self._items(items_from(form))
            if isinstance(items, Response):
                return items
            tiers = self._tiers(form, items)
            if isinstance(tiers, Response):
                return tiers
            now = int(time.time())
            currency = items[0]["item_price_id"].split("-")[-2] if items else "USD"
            subscription = {"id": subscription_id, "object": "subscription", "customer_id": customer_id,
                            "status": "active", "currency_code": currency, "subscription_items": items,
                            "item_tiers": tiers,
                            "start_date": int(fields.get("start_date") or now), "started_at": now,
                            **current_term(int(fields.get("start_date") or now), items, now),
                            **{k: v for k, v in fields.items() if k.startswith("cf_")}}
            self.table("subscription")[subscription_id] = subscription
            total = sum(item["amount"] for item in items)
            invoice_id = f"inv_{len(self.table('invoice')) + 1:05d}"
            self.table("invoice")[invoice_id] = {
                "id": invoice_id, "customer_id": customer_id, "subscription_id": subscription_id,
                "status": "paid" if customer.get("auto_collection") == "on" else "payment_due",
                "currency_code": currency, "total": total, "amount_due": total, "amount_paid": 0,
                "line_items": [{"description": i["item_price_id"], "amount": i["amount"]} for i in items]}
        return Response(200, {"subscription": subscription, "customer": customer})

    def update_subscription(self, request: Request, subscription_id: str) -> Response:
        form = request.form()
        fields = dict(form)
        with self.lock:
            subscription = self.table("subscription").get(subscription_id)
            if subscription is None:
                return self._missing("subscription", subscription_id)
            if subscription["status"] == "cancelled":
                return error(400, "invalid_state_for_request", "The subscription is cancelled.")
            items = self._items(items_from(form))
            if isinstance(items, Response):
                return items
            tiers = self._tiers(form, items if fields.get("replace_items_list") == "true"
                                else subscription["subscription_items"] + items)
            if isinstance(tiers, Response):
                return tiers
            if fields.get("replace_items_list") == "true":
                subscription["item_tiers"] = tiers
                subscription["subscription_items"] = items
            else:
                by_price = {i["item_price_id"]: i for i in subscription["subscription_items"]}
                by_price.update({i["item_price_id"]: i for i in items})
                subscription["subscription_items"] = list(by_price.values())
            subscription["last_prorate"] = fields.get("prorate", "true")
            return Response(200, {"subscription": subscription})

    def cancel(self, request: Request, subscription_id: str) -> Response:
        end_of_term = dict(request.form()).get("end_of_term") == "true"
        with self.lock:
            subscription = self.table("subscription").get(subscription_id)
            if subscription is None:
                return self._missing("subscription", subscription_id)
            if end_of_term:
                subscription.update(status="non_renewing", cancelled_at=subscription["current_term_end"])
            else:
                subscription.update(status="cancelled", cancelled_at=int(time.time()))
            return Response(200, {"subscription": subscription})

    def list_invoices(self, request: Request) -> Response:
        customer = request.arg("customer_id[is]")
        with self.lock:
            found = [{"invoice": i} for i in self.table("invoice").values()
                     if not customer or i["customer_id"] == customer]
        return Response(200, {"list": found})

    def not_found(self, request: Request) -> Response:
        return error(404, "resource_not_found", f"Sorry, {request.path} is not a valid API path.")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        param = problems[0].split(":", 1)[0].removeprefix("body.").removeprefix("query.")
        return error(400, "param_wrong_value", f"{param} : {problems[0].split(': ', 1)[-1]}", param=param)

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "api_request_limit_exceeded", "Sorry, access has been blocked temporarily due to request "
                     "count exceeding acceptable limits. Please try after some time.",
                     headers=retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        return error(status, "internal_error", "Sorry, something went wrong when trying to process the request.",
                     "operation_failed")
