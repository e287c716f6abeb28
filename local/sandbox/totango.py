"""Totango: the SDR collection gateway (`/pixel.gif`: account upsert with attributes, keyed by service id and
account id; answers 200 with a 1x1 gif whatever it did, as Totango documents) and the Tasks API (`/api/v3/tasks`,
the `app-token` header; 400 "Account not found" for an account Totango does not have)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
TASK_FIELDS = {"title", "description", "due_date", "priority", "status", "account_id", "assignee",
               "activity_type_id"}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"message": message}, headers or {})


class Totango(Vendor):
    name = "totango"

    def __init__(self) -> None:
        super().__init__()
        self.app_token = "totango-sandbox-app-token-91ad"
        self.service_id = "SP-0000-11"

    def credentials(self) -> dict[str, Any]:
        return {"app_token": self.app_token, "service_id": self.service_id}

    def seed(self, kind: str, record: dict[str, Any]) -> str:
        record_id = str(record.get("account_id") or record.get("id") or uuid.uuid4().hex)
        self.table(kind)[record_id] = dict(record)
        return record_id

    def authenticate(self, request: Request) -> Response | None:
        if path_parts(request.path)[:1] == ["pixel.gif"]:
            return None  # the collection gateway is keyed by the service id, not a token
        if request.header("app-token") != self.app_token:
            return error(401, "Unauthorized: invalid app-token")
        return None

    def route(self, request: Request) -> tuple[str, Any] | None:
        parts = path_parts(request.path)
        if parts == ["pixel.gif"] and request.method in ("POST", "GET"):
            return "sdr.track", self.track
        if parts == ["api", "v3", "tasks"] and request.method == "POST":
            return "task.create", self.create_task
        return None

    def track(self, request: Request) -> Response:
        fields = dict(parse_qsl(request.body.decode(), keep_blank_values=True) if request.method == "POST"
                      else request.query)
        gif = Response(200, GIF, content_type="image/gif")
        if fields.get("sdr_s") != self.service_id or not fields.get("sdr_o"):
            return gif  # Totango: 200 is not a confirmation; a call for another service changes nothing here
        with self.lock:
            account = self.table("account").setdefault(fields["sdr_o"], {"account_id": fields["sdr_o"],
                                                                         "attributes": {}})
            if fields.get("sdr_o.account_name"):
                account["name"] = fields["sdr_o.account_name"]
            account["attributes"].update({k.removeprefix("sdr_o."): v for k, v in fields.items()
                                          if k.startswith("sdr_o.") and k != "sdr_o.account_name"})
            account["updated"] = int(time.time() * 1000)
        return gif

    def create_task(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not body.get("account_id") or not body.get("activity_type_id"):
            return error(400, "account_id and activity_type_id are required")
        with self.lock:
            if body["account_id"] not in self.table("account"):
                return error(400, "Account not found")
            task_id = str(uuid.uuid4())
            self.table("task")[task_id] = {**{k: v for k, v in body.items() if k in TASK_FIELDS}, "id": task_id}
        return Response(200, b"Success", content_type="text/plain")

    def not_found(self, request: Request) -> Response:
        return error(404, f"No API at {request.path}")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return error(400, "; ".join(problems))

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "Rate limit exceeded (100 calls/minute per token)", retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        return error(status, "Internal server error")
