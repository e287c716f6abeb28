"""Gainsight CS through its REST data-object APIs (Company and custom objects), with the `accesskey` header.

Creates look up first by our key field (`Erphub_Key__gc`) and insert only when nothing matches; updates
address a record by its Gsid. Onboarding plans, milestones and offboarding requests are custom objects. A plan's
milestones are looked up in one query (operator IN) and the missing ones inserted in one call (Insert takes at
most 50 records): two requests for any number of milestones, instead of two per milestone.
Gainsight can answer HTTP 200 with {"result": false, "errorCode", "errorDesc"}; that is an error too.

Secret (GAINSIGHT_SECRET_NAME): {"access_key"}. Base URL (GAINSIGHT_BASE_URL): https://<domain>.gainsightcloud.com
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from erphub.canonical import Account
from erphub.connectors.base import Connector, external_key
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import OnboardingPlan, RecordRef
from erphub.errors import NotFound, ValidationFailed

OBJECTS = "/v1/data/objects"
KEY_FIELD = "Erphub_Key__gc"
PLAN = "Onboarding_Plan__gc"
MILESTONE = "Onboarding_Milestone__gc"
OFFBOARDING = "Offboarding_Request__gc"
INSERT_MAX = 50  # records per Insert call


def parse_error(response: requests.Response) -> VendorError:
    """{"result": false, "errorCode": "GS_...", "errorDesc": "...", "requestId": "..."}"""
    body = json_or_none(response)
    if isinstance(body, dict):
        return VendorError(str(body.get("errorDesc") or body.get("message") or ""), str(body.get("errorCode") or ""))
    return VendorError(response.text[:300] or response.reason)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, Decimal) else v) for k, v in fields.items() if v is not None}


class GainsightSuccess(Connector):
    system = "gainsight"

    def make_client(self) -> HttpClient:
        self.secret("access_key")
        return self.client(auth=lambda *_: {"accesskey": self.secret("access_key")[0],
                                            "Content-Type": "application/json"}, error_parser=parse_error)

    def _call(self, method: str, path: str, body: dict[str, Any], *, params: dict[str, str] | None = None,
              idempotency_key: str | None = None, record: str = "") -> dict[str, Any]:
        answer = self.http.json(method, path, json=body, params=params, idempotency_key=idempotency_key,
                                record=record) or {}
        if answer.get("result") is False:
            raise ValidationFailed(f"gainsight {answer.get('errorCode')}: {answer.get('errorDesc')}",
                                   system=self.system, record=record)
        return answer.get("data") or {}

    def find(self, object_name: str, field: str, value: str) -> str | None:
        return self.find_all(object_name, field, [value]).get(value)

    def find_all(self, object_name: str, field: str, values: list[str]) -> dict[str, str]:
        """{value: Gsid} of the records whose `field` is one of `values` (at least one; one query)."""
        condition = {"name": field, "alias": "A", "value": values, "operator": "EQ" if len(values) == 1 else "IN"}
        data = self._call("POST", f"{OBJECTS}/query/{object_name}", {
            "select": ["Gsid", field], "where": {"conditions": [condition], "expression": "A"},
            "limit": len(values), "offset": 0}, idempotency_key="query", record=f"{object_name}/{values[0]}")
        return {str(r[field]): str(r["Gsid"]) for r in data.get("records") or [] if r.get(field) in values}

    def _insert(self, object_name: str, records: list[dict[str, Any]], record: str) -> list[str]:
        """Gsids of the inserted records, in order."""
        gsids = []
        for start in range(0, len(records), INSERT_MAX):
            data = self._call("POST", f"{OBJECTS}/{object_name}", {"records": records[start:start + INSERT_MAX]},
                              record=record)
            gsids += [str(r.get("Gsid", "")) for r in data.get("records") or []]
        return gsids

    def _update(self, object_name: str, gsid: str, fields: dict[str, Any]) -> None:
        self._call("PUT", f"{OBJECTS}/{object_name}", {"records": [{"Gsid": gsid, **_clean(fields)}]},
                   params={"keys": "Gsid"}, record=f"{object_name}/{gsid}")

    def _create_once(self, object_name: str, key: str, fields: dict[str, Any], *, update: bool = False) -> RecordRef:
        existing = self.find(object_name, KEY_FIELD, key)
        if existing:
            if update:
                self._update(object_name, existing, fields)
            return RecordRef(system=self.system, kind=object_name, id=existing, external_id=key, created=False)
        created = self._insert(object_name, [{**_clean(fields), KEY_FIELD: key}], record=f"{object_name}/{key}")
        return RecordRef(system=self.system, kind=object_name, id=(created or [""])[0], external_id=key, created=True)

    def upsert_company(self, account: Account, *, idempotency_key: str) -> RecordRef:
        return self._create_once("Company", external_key(account.account_id), {
            "Name": account.name, "Industry": account.industry, "Stage": account.lifecycle_status,
            "Crm_Account_Id__gc": account.account_id}, update=True)

    def _company(self, company_id: str) -> str:
        """Accept a Gsid or our key; always answer the Gsid."""
        if len(company_id) >= 30 and company_id.isalnum():
            return company_id
        gsid = self.find("Company", KEY_FIELD, company_id)
        if gsid is None:
            raise NotFound(f"gainsight has no company {company_id}", system=self.system, record=company_id)
        return gsid

    def create_onboarding_plan(self, company_id: str, plan: OnboardingPlan, *, idempotency_key: str) -> RecordRef:
        gsid = self._company(company_id)
        key = external_key(idempotency_key)
        ref = self._create_once(PLAN, key, {"Name": plan.name, "Company_Id__gc": gsid,
                                            "Owner_Email__gc": plan.owner_email, "Status__gc": "Active"})
        milestones = {f"{key}-{number}": {
            "Name": milestone.name, "Plan_Id__gc": ref.id, "Sequence__gc": number,
            "Due_Date__gc": milestone.due_date.isoformat() if milestone.due_date else None}
            for number, milestone in enumerate(plan.milestones, start=1)}
        if milestones:
            existing = self.find_all(MILESTONE, KEY_FIELD, list(milestones))
            missing = [{**_clean(fields), KEY_FIELD: k} for k, fields in milestones.items() if k not in existing]
            if missing:
                self._insert(MILESTONE, missing, record=f"{MILESTONE}/{key}")
        return ref

    def set_health(self, company_id: str, *, risk_level: str, health_score: Decimal | None = None,
                   reason: str | None = None, adoption: dict[str, Any] | None = None) -> None:
        self._update("Company", self._company(company_id), {
            "Renewal_Risk__gc": risk_level, "Health_Score__gc": health_score, "Risk_Reason__gc": reason,
            **_adoption(adoption or {})})

    def update_adoption_plan(self, company_id: str, fields: dict[str, Any]) -> None:
        self._update("Company", self._company(company_id), _adoption(fields))

    def start_offboarding(self, company_id: str, *, reason: str | None, idempotency_key: str) -> RecordRef:
        gsid = self._company(company_id)
        self._update("Company", gsid, {"Stage": "Offboarding"})
        return self._create_once(OFFBOARDING, external_key(idempotency_key), {
            "Name": f"Offboarding {company_id}", "Company_Id__gc": gsid, "Reason__gc": reason,
            "Status__gc": "Open"})


def _adoption(fields: dict[str, Any]) -> dict[str, Any]:
    """The adoption plan's fields as the Company's custom fields."""
    return {f"Adoption_{name.title()}__gc": value for name, value in fields.items()}
