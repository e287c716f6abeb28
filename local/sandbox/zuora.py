"""Zuora Billing v1 REST: an OAuth client-credentials token endpoint, accounts, the product catalog (the one of
local/sandbox/catalog.py: a product per SKU, a rate plan per billing period, per-unit recurring or Overage usage
charges priced per currency), orders with subscription order actions, subscriptions, invoices and usage records.

Business errors come as Zuora sends them: HTTP 200 with `{"success": false, "processId", "reasons": [{"code",
"message"}]}`, the code's last two digits its category (20 invalid value, 30 rule restriction, 40 not found).
An Idempotency-Key replays the first response."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from local.sandbox import catalog, zuora_query
from local.sandbox.core import IdempotencyCache, Request, Response, Vendor, path_parts, retry_after_headers
from local.sandbox.oauth import TokenIssuer
from local.sandbox.zuora_orders import Orders, add_months

PERIODS = {"monthly": "Month", "quarterly": "Quarter", "semiannual": "Semi_Annual", "annual": "Annual"}


def failure(code: int, message: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"success": False, "processId": uuid.uuid4().hex[:16].upper(),
                             "reasons": [{"code": code, "message": message}]}, headers or {})


def zid() -> str:
    return uuid.uuid4().hex  # Zuora ids are 32 hex characters


def catalog_products() -> list[dict[str, Any]]:
    products = []
    for sku, (usage_type, prices) in catalog.CATALOG.items():
        plans = []
        for frequency, period in PERIODS.items():
            if usage_type == "metered":
                charge = {"type": "Usage", "model": "Overage", "uom": "Each",
                          "pricing": [{"currency": c.upper(), "includedUnits": 0, "overagePrice": float(p)}
                                      for c, p in prices.items()]}
            else:
                charge = {"type": "Recurring", "model": "PerUnit", "uom": "Seat",
                          "pricing": [{"currency": c.upper(), "price": float(catalog.unit_amount(sku, c, frequency))
                                       / 100} for c in prices]}
            plan_id = uuid.uuid5(uuid.NAMESPACE_URL, f"zuora:{sku}:{frequency}").hex
            plans.append({"id": plan_id, "name": f"{sku} {period}", "status": "Active", "productRatePlanCharges": [
                {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"zuora:{sku}:{frequency}:charge").hex, "name": sku,
                 "billingPeriod": period, **charge}]})
        products.append({"id": uuid.uuid5(uuid.NAMESPACE_URL, f"zuora:{sku}").hex, "sku": sku, "name": sku,
                         "productRatePlans": plans})
    return products


class Zuora(Vendor):
    name = "zuora"

    def __init__(self) -> None:
        super().__init__()
        self.issuer = TokenIssuer("zuora-sandbox-client-7c1e", "zuora-sandbox-secret~41")
        self.idempotency = IdempotencyCache()
        self.products = catalog_products()
        self.orders = Orders(self)

    def credentials(self) -> dict[str, Any]:
        return {"client_id": self.issuer.client_id, "client_secret": self.issuer.client_secret}

    def reset(self) -> None:
        super().reset()
        self.idempotency.clear()

    def _is_token_request(self, request: Request) -> bool:
        return path_parts(request.path) == ["oauth", "token"] and request.method == "POST"

    def authenticate(self, request: Request) -> Response | None:
        if self._is_token_request(request) or self.issuer.valid(request.bearer()):
            return None
        return failure(90000011, "Authentication error", 401)

    def route(self, request: Request) -> tuple[str, Any] | None:
        if self._is_token_request(request):
            return "token", lambda r: self.issuer.issue(r, {"expires_in": 3599, "scope": "entity.1 platform.write",
                                                            "jti": zid()}, 401, "Invalid client credentials")
        parts, method = path_parts(request.path), request.method
        if parts[:1] != ["v1"]:
            return None
        rest = parts[1:]
        routes = [
            (["accounts"], "POST", "account.create", self.create_account),
            (["accounts", "*"], "GET", "account.get", lambda r: self.get_account(rest[1])),
            (["accounts", "*"], "PUT", "account.update", lambda r: self.update_account(r, rest[1])),
            (["catalog", "products"], "GET", "catalog.products", self.list_products),
            (["orders"], "POST", "order.create", self.orders.create),
            (["subscriptions", "*"], "GET", "subscription.get", lambda r: self.get_subscription(rest[1])),
            (["transactions", "invoices", "accounts", "*"], "GET", "invoice.list",
             lambda r: self.list_invoices(rest[3])),
            (["object", "usage"], "POST", "usage.create", self.orders.create_usage),
            (["action", "query"], "POST", "action.query", lambda r: zuora_query.query(self, r)),
        ]
        found = next(((op, handler) for pattern, verb, op, handler in routes if verb == method and len(pattern) ==
                      len(rest) and all(p in ("*", part) for p, part in zip(pattern, rest, strict=True))), None)
        if found is None:
            return None
        operation, handler = found
        key = request.header("idempotency-key")
        if method == "POST" and key:
            return operation, lambda r: self.idempotency.run(
                key, r, handler, lambda: failure(53000030, "The Idempotency-Key was used with another request body.",
                                                 409),
                lambda: failure(53000050, "A request with this Idempotency-Key is in progress.", 409))
        return operation, handler

    # --- accounts ----------------------------------------------------------------------------------
    def create_account(self, request: Request) -> Response:
        body = request.json() or {}
        number = body.get("accountNumber") or f"A{len(self.table('account')) + 1:08d}"
        currency = str(body.get("currency"))
        if currency.lower() not in catalog.CURRENCIES:
            return failure(50000020, f"Currency {currency} is not enabled in the tenant.")
        with self.lock:
            if number in self.table("account"):
                return failure(50000030, f"The account number {number} is invalid or duplicate.")
            account = {"id": zid(), "accountNumber": number, "name": body["name"], "currency": currency,
                       "billCycleDay": body.get("billCycleDay"), "autoPay": body.get("autoPay", False),
                       "paymentTerm": body.get("paymentTerm"), "crmId": body.get("crmId"),
                       "billToContact": body.get("billToContact"), "status": "Active"}
            self.table("account")[number] = account
        return Response(200, {"success": True, "accountId": account["id"], "accountNumber": number})

    def account(self, key: str) -> dict[str, Any] | None:
        accounts = self.table("account")
        return accounts.get(key) or next((a for a in accounts.values() if a["id"] == key), None)

    def get_account(self, key: str) -> Response:
        with self.lock:
            account = self.account(key)
            if account is None:
                return failure(50000040, f"Cannot find entity by key: '{key}'.")
            return Response(200, {"success": True, "basicInfo": {k: account[k] for k in (
                "id", "accountNumber", "name", "status", "crmId")}, "billingAndPayment": {k: account[k] for k in (
                    "currency", "billCycleDay", "autoPay", "paymentTerm")}, "billToContact": account["billToContact"]})

    def update_account(self, request: Request, key: str) -> Response:
        with self.lock:
            account = self.account(key)
            if account is None:
                return failure(50000040, f"Cannot find entity by key: '{key}'.")
            account.update(request.json() or {})
            return Response(200, {"success": True})

    # --- catalog, subscriptions, invoices -----------------------------------------------------------
    def list_products(self, request: Request) -> Response:
        page, size = int(request.arg("page") or 1), int(request.arg("pageSize") or 10)
        chosen = self.products[(page - 1) * size: page * size]
        more = page * size < len(self.products)
        return Response(200, {"success": True, "products": chosen,
                              **({"nextPage": f"{self.base_url}/v1/catalog/products?page={page + 1}"} if more else {})})

    def get_subscription(self, key: str) -> Response:
        with self.lock:
            sub = self.table("subscription").get(key)
            if sub is None:
                return failure(50000040, f"Cannot find entity by key: '{key}'.")
            return Response(200, {"success": True, **sub})

    def list_invoices(self, key: str) -> Response:
        with self.lock:
            account = self.account(key)
            if account is None:
                return failure(50000040, f"Cannot find entity by key: '{key}'.")
            invoices = [i for i in self.table("invoice").values() if i["accountNumber"] == account["accountNumber"]]
        return Response(200, {"success": True, "invoices": invoices})

    def term_end(self, start: date) -> str:
        return add_months(start, 12).isoformat()

    # --- errors ------------------------------------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return failure(90000045, f"Unsupported request: {request.method} {request.path}", 404)

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        first = problems[0]
        code = 90000022 if first.endswith("required") else 90000021 if "not a field" in first else 90000020
        return failure(code, first, 400)

    def rate_limited(self, retry_after: float | None) -> Response:
        return failure(90000070, "You have exceeded the limit of concurrent requests.", 429,
                       retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        return failure(90000060, "Internal server error.", status)
