"""Totango as the customer-success system: account attributes through the HTTP (SDR) API, tasks through the
Tasks API (tests/contracts/totango/ names the sources).

- Accounts and their attributes (status, health, renewal risk, onboarding and adoption plan): `POST /pixel.gif`
  on the SDR collection gateway with `sdr_s` (service id), `sdr_o` (account id) and `sdr_o.<attribute>` fields.
  It inserts or updates (an upsert by account id), so sending it again is harmless. Totango answers 200 with a
  1x1 gif for any well-formed call; 200 is not a confirmation, anything else is an error to retry.
- Onboarding and offboarding work for the success manager: `POST /api/v3/tasks` with the `app-token` header
  (activity_type_id, the Flow, is required). Totango returns no task id and takes no external key, so a task
  whose response was lost may be created twice by a retried step; the plan itself lives in attributes.

Totango account ids allow letters, digits and underscores only: the hub's account id with every other
character replaced by `_`. Secret (TOTANGO_SECRET_NAME): {"app_token", "service_id", "onboarding_flow_id"
(default "onboarding"), "sdr_url" (default: the API host with `api` replaced by `sdr`, e.g.
https://sdr.totango.com for https://api.totango.com)}. Base URL (TOTANGO_BASE_URL): https://api.totango.com or
https://api-eu1.totango.com.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from erphub.canonical import Account
from erphub.connectors.base import Connector
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import OnboardingPlan, RecordRef

SDR_PATH = "/pixel.gif"
TASKS = "/api/v3/tasks"
PRIORITY_NORMAL = 2
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def account_id(value: str) -> str:
    return _NOT_ID.sub("_", value)


def parse_error(response: requests.Response) -> VendorError:
    """Totango's API answers errors as {"message": ...} (e.g. 400 "Account not found") or plain text."""
    body = json_or_none(response)
    if isinstance(body, dict):
        return VendorError(str(body.get("message") or body.get("error") or ""), str(body.get("code") or ""))
    return VendorError(response.text[:300] or response.reason)


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


class TotangoSuccess(Connector):
    system = "totango"

    def make_client(self) -> HttpClient:
        self.secret("app_token", "service_id")
        return self.client(auth=lambda *_: {"app-token": self.secret("app_token")[0]}, error_parser=parse_error)

    def _sdr_url(self) -> str:
        configured = self.credentials.get("sdr_url")
        if configured:
            return str(configured).rstrip("/") + SDR_PATH
        parts = urlsplit(self.config.base_url)
        host = re.sub(r"^api(?=[.-])", "sdr", parts.netloc)
        return urlunsplit((parts.scheme, host, parts.path.rstrip("/") + SDR_PATH, "", ""))

    def set_attributes(self, totango_id: str, attributes: dict[str, Any], name: str | None = None) -> None:
        """Account attributes by the HTTP API (an upsert of the account); None values are left out."""
        fields = {"sdr_s": self.secret("service_id")[0], "sdr_o": totango_id,
                  **({"sdr_o.account_name": name} if name else {}),
                  **{f"sdr_o.{k}": _text(v) for k, v in attributes.items() if v is not None}}
        # an upsert: safe to send again, so transient failures are retried in the call
        self.http.request("POST", self._sdr_url(), data=fields, idempotency_key="sdr-upsert",
                          record=f"account/{totango_id}")

    def _task(self, totango_id: str, title: str, description: str, due: str | None, assignee: str | None) -> None:
        body = {"title": title, "description": description, "priority": PRIORITY_NORMAL, "status": "open",
                "account_id": totango_id, "activity_type_id": self.credentials.get("onboarding_flow_id")
                or "onboarding", **({"due_date": due} if due else {}), **({"assignee": assignee} if assignee else {})}
        self.http.request("POST", TASKS, json=body, headers={"Content-Type": "application/json"},
                          record=f"task/{totango_id}")

    def upsert_company(self, account: Account, *, idempotency_key: str) -> RecordRef:
        totango_id = account_id(account.account_id)
        self.set_attributes(totango_id, {"Status": "Paying", "Crm Account Id": account.account_id,
                                         "Industry": account.industry, "Lifecycle Stage": account.lifecycle_status},
                            name=account.name)
        return RecordRef(system=self.system, kind="account", id=totango_id, external_id=account.account_id)

    def create_onboarding_plan(self, company_id: str, plan: OnboardingPlan, *, idempotency_key: str) -> RecordRef:
        totango_id = account_id(company_id)
        milestones = "; ".join(f"{m.name}" + (f" by {m.due_date}" if m.due_date else "") for m in plan.milestones)
        self.set_attributes(totango_id, {"Onboarding Plan": plan.name, "Onboarding Milestones": milestones,
                                         "Onboarding Key": idempotency_key, "Lifecycle Stage": "Onboarding"})
        last_due = max((m.due_date for m in plan.milestones if m.due_date), default=None)
        self._task(totango_id, f"Onboarding: {plan.name}", milestones or plan.name,
                   last_due.isoformat() if last_due else None, plan.owner_email)
        return RecordRef(system=self.system, kind="onboarding_plan", id=f"{totango_id}:{plan.name}",
                         external_id=idempotency_key)

    def set_health(self, company_id: str, *, risk_level: str, health_score: Decimal | None = None,
                   reason: str | None = None, adoption: dict[str, Any] | None = None) -> None:
        # Totango computes its own health; the hub's view goes to attributes a health profile may read
        self.set_attributes(account_id(company_id), {"Renewal Risk": risk_level, "Erphub Health Score": health_score,
                                                     "Risk Reason": reason, **_adoption(adoption or {})})

    def update_adoption_plan(self, company_id: str, fields: dict[str, Any]) -> None:
        self.set_attributes(account_id(company_id), _adoption(fields))

    def start_offboarding(self, company_id: str, *, reason: str | None, idempotency_key: str) -> RecordRef:
        totango_id = account_id(company_id)
        self.set_attributes(totango_id, {"Lifecycle Stage": "Offboarding", "Offboarding Reason": reason,
                                         "Offboarding Key": idempotency_key})
        self._task(totango_id, "Offboarding", reason or "Contract cancelled", None, None)
        return RecordRef(system=self.system, kind="offboarding", id=f"{totango_id}:offboarding",
                         external_id=idempotency_key)


def _adoption(fields: dict[str, Any]) -> dict[str, Any]:
    """The adoption plan's fields as account attributes."""
    return {f"Adoption {name.replace('_', ' ').title()}": value for name, value in fields.items()}
