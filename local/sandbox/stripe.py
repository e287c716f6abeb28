"""Stripe v1 API: form-encoded customers, prices (by lookup key), subscriptions and invoices, with
Idempotency-Key replay (same key + same parameters → the first response; other parameters → 400
idempotency_error) and Stripe's error bodies."""

from __future__ import annotations

import time
import uuid
from typing import Any

from local.sandbox import catalog, stripe_metering, stripe_rules, stripe_tax
from local.sandbox.core import IdempotencyCache, Request, Response, Vendor, path_parts, retry_after_headers
from local.sandbox.forms import unflatten
from local.sandbox.stripe_rules import error


def catalog_price(sku: str, frequency: str) -> dict[str, Any]:
    """The account's price for a SKU and frequency: USD by default, with an amount per other currency
    (Stripe's multi-currency prices, `currency_options`), looked up by `<sku>_<frequency>`."""
    key = f"{sku}_{frequency}"
    interval, count = catalog.INTERVALS[frequency]
    amounts = {c: catalog.unit_amount(sku, c, frequency) for c in catalog.CURRENCIES}
    metered = catalog.metered(sku)
    options = {c: {"unit_amount": None if metered else int(a), "unit_amount_decimal": str(a)}
               for c, a in amounts.items() if c != "usd"}
    return {"id": f"price_{uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:14]}", "object": "price", "lookup_key": key,
            "active": True, "currency": "usd", "unit_amount": None if metered else int(amounts["usd"]),
            "unit_amount_decimal": str(amounts["usd"]), "product": f"prod_{sku}", "currency_options": options,
            "recurring": {"interval": interval, "interval_count": count,
                          "usage_type": "metered" if metered else "licensed"}}


def oid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:14]}"


class Stripe(Vendor):
    name = "stripe"

    def __init__(self) -> None:
        super().__init__()
        self.api_key = "sk_test_51Sandbox0000000000000000000000erphub"
        self.idempotency = IdempotencyCache()
        self._seed_prices()

    def credentials(self) -> dict[str, Any]:
        return {"api_key": self.api_key}

    def reset(self) -> None:
        super().reset()
        self.idempotency.clear()
        self._seed_prices()

    def _seed_prices(self) -> None:
        with self.lock:
            for sku in catalog.CATALOG:
                for frequency in catalog.INTERVALS:
                    price = catalog_price(sku, frequency)
                    self.table("price")[price["lookup_key"]] = price

    def authenticate(self, request: Request) -> Response | None:
        key = request.bearer() or request.basic_user()
        if key != self.api_key:
            shown = f"{key[:8]}****{key[-4:]}" if len(key) > 12 else key
            return error(401, "invalid_request_error", f"Invalid API Key provided: {shown}")
        return None

    def route(self, request: Request) -> tuple[str, Any] | None:
        parts, method = path_parts(request.path), request.method
        if not parts or parts[0] != "v1" or len(parts) < 2:
            return None
        resource, rest = parts[1], parts[2:]
        table = {
            ("customers", 0, "POST"): ("customer.create", self.create_customer),
            ("customers", 1, "GET"): ("customer.get", lambda r: self.fetch("customer", rest[0])),
            ("customers", 1, "POST"): ("customer.update", lambda r: self.update_customer(r, rest[0])),
            ("prices", 0, "GET"): ("price.list", self.list_prices),
            ("prices", 0, "POST"): ("price.create", lambda r: stripe_metering.create_price(self, r.form())),
            ("billing", 1, "GET"): ("meter.list", lambda r: stripe_metering.list_meters(self, r.arg("status"))),
            ("billing", 1, "POST"): ("meter.create", lambda r: stripe_metering.create_meter(self, r.form())),
            ("subscriptions", 0, "POST"): ("subscription.create", self.create_subscription),
            ("subscriptions", 0, "GET"): ("subscription.list", self.list_subscriptions),
            ("subscriptions", 1, "GET"): ("subscription.get", lambda r: self.fetch("subscription", rest[0])),
            ("subscriptions", 1, "POST"): ("subscription.update", lambda r: self.update_subscription(r, rest[0])),
            ("subscriptions", 1, "DELETE"): ("subscription.cancel", lambda r: self.cancel(rest[0])),
            ("invoices", 0, "GET"): ("invoice.list", self.list_invoices),
            ("tax", 1, "POST"): ("tax.calculation.create", lambda r: stripe_tax.calculate(r.form())),
        }
        if resource == "customers" and rest == ["search"] and method == "GET":
            return "customer.search", self.search_customers
        found: tuple[str, Any] | None
        if resource == "billing" and rest == ["meter_events"] and method == "POST":
            found = ("meter_event.create", lambda r: stripe_metering.create_meter_event(self, r.form()))
        elif (resource == "billing" and rest != ["meters"]) or (resource == "tax" and rest != ["calculations"]):
            return None
        else:
            found = table.get((resource, len(rest), method))
        if found is None:
            return None
        operation, handler = found
        key = request.header("idempotency-key")
        if method == "POST" and key:
            return operation, lambda r: self.idempotency.run(
                key, r, handler,
                lambda: error(400, "idempotency_error", "Keys for idempotent requests can only be used with the "
                              "same parameters they were first used with. Try using a key other than "
                              f"'{key}' if you meant to execute a different request."),
                lambda: error(409, "idempotency_error", "There is currently another in-progress request using "
                              "this Stripe token (probably the same idempotency key).", "idempotency_key_in_use"))
        return operation, handler

    # --- customers ---------------------------------------------------------------------------------
    def fetch(self, kind: str, object_id: str) -> Response:
        with self.lock:
            record = self.table(kind).get(object_id)
            if record is None:
                return error(404, "invalid_request_error", f"No such {kind}: '{object_id}'", "resource_missing", "id")
            return Response(200, record)

    def create_customer(self, request: Request) -> Response:
        params = unflatten(request.form())
        customer_id = oid("cus")
        customer = {"id": customer_id, "object": "customer", "created": int(time.time()), "livemode": False,
                    "name": params.get("name"), "email": params.get("email"),
                    "address": params.get("address"), "metadata": params.get("metadata") or {}}
        with self.lock:
            self.table("customer")[customer_id] = customer
        return Response(200, customer)

    def update_customer(self, request: Request, customer_id: str) -> Response:
        params = unflatten(request.form())
        with self.lock:
            customer = self.table("customer").get(customer_id)
            if customer is None:
                return error(404, "invalid_request_error", f"No such customer: '{customer_id}'", "resource_missing")
            customer["metadata"] = {**customer["metadata"], **(params.pop("metadata", None) or {})}
            customer.update(params)
            return Response(200, customer)

    def search_customers(self, request: Request) -> Response:
        query = request.arg("query") or ""
        if not (query.startswith("metadata['") and "']:'" in query and query.endswith("'")):
            return error(400, "invalid_request_error", f"Invalid search query: {query}", "parameter_invalid_string")
        field, value = query[len("metadata['"):-1].split("']:'", 1)
        with self.lock:
            found = [c for c in self.table("customer").values() if c["metadata"].get(field) == value]
        return Response(200, {"object": "search_result", "data": found, "has_more": False,
                               "url": "/v1/customers/search"})

    # --- prices ------------------------------------------------------------------------------------
    def list_prices(self, request: Request) -> Response:
        """Prices of the account's catalog (local/sandbox/catalog.py) by lookup key; an unknown key finds none."""
        keys = [value for name, value in request.query if name == "lookup_keys[]"]
        with self.lock:
            data = [self.table("price")[key] for key in keys if key in self.table("price")]
        return Response(200, {"object": "list", "data": data, "has_more": False, "url": "/v1/prices"})

    def _price(self, price_id: str) -> dict[str, Any] | None:
        return next((p for p in self.table("price").values() if p["id"] == price_id), None)

    # --- subscriptions -----------------------------------------------------------------------------
    def _items(self, entries: list[dict[str, Any]], subscription_id: str) -> list[dict[str, Any]] | Response:
        items = []
        for index, entry in enumerate(entries):
            price = self._price(str(entry.get("price")))
            if price is None:
                return error(400, "invalid_request_error", f"No such price: '{entry.get('price')}'",
                             "resource_missing", f"items[{index}][price]")
            metered = price["recurring"]["usage_type"] == "metered"
            quantity = entry.get("quantity")
            items.append({"id": oid("si"), "object": "subscription_item", "price": price,
                          "quantity": int(quantity) if quantity is not None else None if metered else 1,
                          "subscription": subscription_id})
        return items

    def create_subscription(self, request: Request) -> Response:
        params = unflatten(request.form())
        with self.lock:
            customer = self.table("customer").get(str(params.get("customer")))
            if customer is None:
                return error(400, "invalid_request_error", f"No such customer: '{params.get('customer')}'",
                             "resource_missing", "customer")
            subscription_id = oid("sub")
            items = self._items(params.get("items") or [], subscription_id)
            if isinstance(items, Response):
                return items
            currency = str(params.get("currency") or (items[0]["price"]["currency"] if items else "usd")).lower()
            now = int(time.time())
            dates = stripe_rules.periods(params, items, now)
            refused = (stripe_rules.check_items(items, currency) or stripe_rules.check_customer_currency(
                customer, currency) or (dates if isinstance(dates, Response) else None))
            if refused is not None:
                return refused
            assert not isinstance(dates, Response)
            customer["currency"] = currency  # Stripe fixes a customer's currency with its first subscription
            subscription = {
                "id": subscription_id, "object": "subscription", "customer": customer["id"], "status": "active",
                "currency": currency, "created": now, **dates,
                "cancel_at_period_end": False, "canceled_at": None,
                "collection_method": params.get("collection_method", "charge_automatically"),
                "metadata": params.get("metadata") or {},
                "items": {"object": "list", "data": items}}
            self.table("subscription")[subscription_id] = subscription
            self._invoice(subscription)
        return Response(200, subscription)

    def _invoice(self, subscription: dict[str, Any]) -> None:
        """The first invoice: licensed items for the period in the subscription's currency (usage comes later)."""
        currency = subscription["currency"]
        lines: list[dict[str, Any]] = [{"description": f"{item['quantity'] or 0} x {item['price']['lookup_key']}",
                  "amount": (item["quantity"] or 0) * stripe_rules.unit_amount(item["price"], currency)}
                 for item in subscription["items"]["data"]]
        total = sum(line["amount"] for line in lines)
        invoice_id = oid("in")
        self.table("invoice")[invoice_id] = {
            "id": invoice_id, "object": "invoice", "customer": subscription["customer"],
            "subscription": subscription["id"], "number": f"SBX-{len(self.table('invoice')) + 1:04d}",
            "status": "paid" if subscription["collection_method"] == "charge_automatically" else "open",
            "currency": subscription["currency"], "total": total, "amount_due": total,
            "amount_paid": total if subscription["collection_method"] == "charge_automatically" else 0,
            "lines": {"object": "list", "data": lines}}

    def update_subscription(self, request: Request, subscription_id: str) -> Response:
        params = unflatten(request.form())
        with self.lock:
            subscription = self.table("subscription").get(subscription_id)
            if subscription is None:
                return error(404, "invalid_request_error", f"No such subscription: '{subscription_id}'",
                             "resource_missing", "id")
            if subscription["status"] == "canceled":
                return error(400, "invalid_request_error", "A canceled subscription can only update its "
                             "cancellation_details and metadata.")
            items = self._changed_items(subscription, params.pop("items", None) or [])
            if isinstance(items, Response):
                return items
            refused = stripe_rules.check_items(items, subscription["currency"])
            if refused is not None:  # refused as a whole: nothing of the update is applied
                return refused
            subscription["items"]["data"] = items
            if "cancel_at_period_end" in params:
                subscription["cancel_at_period_end"] = params.pop("cancel_at_period_end") == "true"
            subscription["metadata"] = {**subscription["metadata"], **(params.pop("metadata", None) or {})}
            subscription.update(params)
            return Response(200, subscription)

    def _changed_items(self, subscription: dict[str, Any], entries: list[dict[str, Any]]) -> Any:
        """The subscription's items after an update, computed on copies (Stripe applies all of it or none)."""
        items = [dict(item) for item in subscription["items"]["data"]]
        by_id = {item["id"]: item for item in items}
        for entry in entries:
            if entry.get("id") not in by_id:
                added = self._items([entry], subscription["id"])
                if isinstance(added, Response):
                    return added
                items += added
                continue
            item = by_id[entry["id"]]
            if entry.get("deleted") == "true":
                items.remove(item)
                continue
            if "price" in entry:
                item["price"] = self._price(entry["price"])
                if item["price"] is None:
                    return error(400, "invalid_request_error", f"No such price: '{entry['price']}'",
                                 "resource_missing")
                if item["price"]["recurring"]["usage_type"] == "metered" and "quantity" not in entry:
                    item["quantity"] = None
            if "quantity" in entry:
                item["quantity"] = int(entry["quantity"])
        return items

    def cancel(self, subscription_id: str) -> Response:
        with self.lock:
            subscription = self.table("subscription").get(subscription_id)
            if subscription is None:
                return error(404, "invalid_request_error", f"No such subscription: '{subscription_id}'",
                             "resource_missing", "id")
            if subscription["status"] != "canceled":
                subscription.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
            return Response(200, subscription)

    def list_subscriptions(self, request: Request) -> Response:
        customer, status = request.arg("customer"), request.arg("status")
        with self.lock:
            data = [s for s in self.table("subscription").values()
                    if (not customer or s["customer"] == customer) and (not status or s["status"] == status)]
        return Response(200, {"object": "list", "data": data, "has_more": False, "url": "/v1/subscriptions"})

    def list_invoices(self, request: Request) -> Response:
        customer = request.arg("customer")
        with self.lock:
            data = [i for i in self.table("invoice").values() if not customer or i["customer"] == customer]
        return Response(200, {"object": "list", "data": data, "has_more": False, "url": "/v1/invoices"})

    def not_found(self, request: Request) -> Response:
        return error(404, "invalid_request_error", f"Unrecognized request URL ({request.method}: {request.path}).")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        first = problems[0]
        param = first.split(":", 1)[0].removeprefix("body.").removeprefix("query.")
        if first.endswith("not a field of this operation"):
            return error(400, "invalid_request_error", f"Received unknown parameter: {param}", "parameter_unknown",
                         param)
        if first.endswith("required"):
            return error(400, "invalid_request_error", f"Missing required param: {param}.", "parameter_missing",
                         param)
        return error(400, "invalid_request_error", f"Invalid value: {first}", "parameter_invalid_string", param)

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "invalid_request_error", "Request rate limit exceeded. Learn more about rate limits "
                     "here https://stripe.com/docs/rate-limits.", "rate_limit",
                     headers=retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        return error(status, "api_error", "An unknown error occurred")
