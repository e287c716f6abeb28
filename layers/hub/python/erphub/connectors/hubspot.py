"""HubSpot CRM through the CRM v3 objects API, with a private-app bearer token.

Creates search first on a unique property (`erphub_key`) and create only when nothing matches; a 409 on the
unique property (a concurrent create won) is resolved to the existing record, so one record results.

Webhooks carry only ids, so `fetch_deal` reads the closed deal, its company and its line items (v3 batch
read, v4 associations; the mapping is in hubspot_deal.py).

Secret (HUBSPOT_SECRET_NAME): {"access_token"}. Base URL (HUBSPOT_BASE_URL): https://api.hubapi.com
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import quote

import requests

from erphub.canonical import Account, Contract
from erphub.connectors import hubspot_deal
from erphub.connectors.base import Connector, external_key
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import AccountUpdate, OwnerTask, RecordRef
from erphub.errors import Conflict, NotFound, ValidationFailed

OBJECTS = "/crm/v3/objects"
ASSOCIATIONS = "/crm/v4/objects"
PRIMARY_DEAL_COMPANY = 5  # HUBSPOT_DEFINED association type id: deal -> its primary company
PAGE = 500  # the v4 associations list's largest page
KEY_PROPERTY = "erphub_key"
TASK_TO_COMPANY = 192  # HUBSPOT_DEFINED association type id: task -> company
_EXISTING = re.compile(r"Existing ID:\s*(\d+)", re.IGNORECASE)


def parse_error(response: requests.Response) -> VendorError:
    """{"status": "error", "message": "...", "correlationId": "...", "category": "..."}"""
    body = json_or_none(response)
    if isinstance(body, dict):
        message = str(body.get("message", ""))
        found = _EXISTING.search(message)
        return VendorError(message, str(body.get("category", "")), found.group(1) if found else None)
    return VendorError(response.text[:300] or response.reason)


def _text(properties: dict[str, Any]) -> dict[str, str]:
    """HubSpot property values are strings on the wire (numbers, dates and booleans included)."""
    return {k: v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in properties.items() if v is not None}


class HubSpotCrm(Connector):
    system = "hubspot"

    def make_client(self) -> HttpClient:
        self.secret("access_token")
        return self.client(auth=lambda *_: {"Authorization": f"Bearer {self.secret('access_token')[0]}"},
                           error_parser=parse_error)

    def _get(self, object_type: str, object_id: str) -> dict[str, Any]:
        return self.http.json("GET", f"{OBJECTS}/{object_type}/{quote(object_id, safe='')}",
                              record=f"{object_type}/{object_id}")

    def _patch(self, object_type: str, object_id: str, properties: dict[str, Any]) -> None:
        self.http.request("PATCH", f"{OBJECTS}/{object_type}/{quote(object_id, safe='')}",
                          json={"properties": _text(properties)}, record=f"{object_type}/{object_id}")

    def _search(self, object_type: str, groups: list[dict[str, Any]], properties: list[str], limit: int) -> list[Any]:
        # the v3 spec requires after, limit, properties and sorts on every search (PublicObjectSearchRequest)
        body = self.http.json("POST", f"{OBJECTS}/{object_type}/search", idempotency_key="search", json={
            "filterGroups": groups, "properties": properties, "limit": limit, "after": "0", "sorts": []})
        return (body or {}).get("results") or []

    def find(self, object_type: str, key: str) -> str | None:
        results = self._search(object_type, [{"filters": [{"propertyName": KEY_PROPERTY, "operator": "EQ",
                                                           "value": key}]}], [KEY_PROPERTY], 1)
        return str(results[0]["id"]) if results else None

    def _create_once(self, object_type: str, key: str, properties: dict[str, Any],
                     associations: list[dict[str, Any]] | None = None) -> RecordRef:
        existing = self.find(object_type, key)
        if existing:
            return RecordRef(system=self.system, kind=object_type, id=existing, external_id=key, created=False)
        # the v3 create body requires both properties and associations (SimplePublicObjectInputForCreate)
        payload = {"properties": _text({**properties, KEY_PROPERTY: key}), "associations": associations or []}
        try:
            body = self.http.json("POST", f"{OBJECTS}/{object_type}", json=payload, record=f"{object_type}/{key}")
        except Conflict as exc:  # someone created it between our search and our create
            if not exc.existing_id:
                raise
            return RecordRef(system=self.system, kind=object_type, id=exc.existing_id, external_id=key, created=False)
        return RecordRef(system=self.system, kind=object_type, id=str(body["id"]), external_id=key, created=True)

    def get_account(self, account_id: str) -> dict[str, Any]:
        return self._get("companies", account_id)

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]:
        return self._get("deals", opportunity_id)

    def find_account(self, account: Account) -> str | None:
        """Ours by key, else a company with the account's domain (HubSpot's own dedupe key), else by name."""
        wanted = [(KEY_PROPERTY, external_key(account.account_id)), ("domain", account.domain), ("name", account.name)]
        groups = [{"filters": [{"propertyName": p, "operator": "EQ", "value": v}]} for p, v in wanted if v]
        results = self._search("companies", groups, [p for p, _ in wanted], 10)
        for name, value in wanted:  # the most specific match wins
            for result in results:
                if value and (result.get("properties") or {}).get(name) == value:
                    return str(result["id"])
        return None

    def upsert_account(self, account: Account, *, idempotency_key: str) -> RecordRef:
        properties = {"name": account.name, "domain": account.domain, "industry": account.industry,
                      "country": account.country, "erphub_lifecycle_status": account.lifecycle_status}
        properties = {k: v for k, v in properties.items() if v is not None}
        ref = self._create_once("companies", external_key(account.account_id), properties)
        if ref.created is False:
            self._patch("companies", ref.id, properties)
        return ref

    def update_account(self, account_id: str, update: AccountUpdate) -> None:
        properties: dict[str, Any] = {
            "erphub_lifecycle_status": update.lifecycle_status,
            "erphub_renewal_risk": update.renewal_risk,
            "erphub_health_score": str(update.health_score) if update.health_score is not None else None,
            "erphub_account_plan": update.account_plan,
        }
        properties.update({f"erphub_{system}_id": value for system, value in update.external_ids.items()})
        self._patch("companies", account_id, {k: v for k, v in properties.items() if v is not None})

    def create_task(self, account_id: str, task: OwnerTask, *, idempotency_key: str) -> RecordRef:
        due = datetime.combine(task.due_date, time(9), UTC) if task.due_date else datetime.now(UTC)
        properties = {
            "hs_timestamp": due.isoformat().replace("+00:00", "Z"),
            "hs_task_subject": task.subject,
            "hs_task_body": task.description,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": {"low": "LOW", "normal": "MEDIUM", "high": "HIGH"}[task.priority],
            "hubspot_owner_id": task.owner_id or (self.get_account(account_id).get("properties") or {}).get(
                "hubspot_owner_id"),
        }
        association = {"to": {"id": account_id},
                       "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_COMPANY}]}
        return self._create_once("tasks", external_key(idempotency_key),
                                 {k: v for k, v in properties.items() if v is not None}, [association])

    def fetch_deal(self, deal_id: str, company_hint: str = "") -> Contract:
        """The closed deal as a contract: its properties, its primary company (else the webhook's, else the
        first associated) and its line items. NotFound when the deal is gone; ValidationFailed without a company."""
        deal = self._read("deals", [deal_id], hubspot_deal.DEAL_PROPERTIES)
        if not deal:
            raise NotFound(f"hubspot deal {deal_id} not found", system=self.system, record=deal_id)
        companies = self.associated("deals", deal_id, "companies")
        primary = [i for i, types in companies if PRIMARY_DEAL_COMPANY in types]
        chosen = (primary or [i for i, _ in companies if i == company_hint] or [i for i, _ in companies] or [""])[0]
        company = self._read("companies", [chosen], hubspot_deal.COMPANY_PROPERTIES) if chosen else []
        if not company:
            raise ValidationFailed(f"hubspot deal {deal_id} has no associated company", system=self.system,
                                   record=deal_id)
        line_ids = [i for i, _ in self.associated("deals", deal_id, "line_items")]
        lines = self._read("line_items", line_ids, hubspot_deal.LINE_ITEM_PROPERTIES) if line_ids else []
        return hubspot_deal.to_contract(deal[0], company[0], sorted(lines, key=lambda r: int(r["id"])))

    def deals_of_contract(self, contract_key: str) -> list[dict[str, Any]]:
        """Every deal of a contract: the first (its id is the key) and its amendment deals (erphub_contract_key),
        each with its version and `amount` (a number property, returned as a string; absent when empty)."""
        groups = [{"filters": [{"propertyName": "erphub_contract_key", "operator": "EQ", "value": contract_key}]},
                  {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": contract_key}]}]
        found = self._search("deals", groups, ["dealstage", "amount", "deal_currency_code", "erphub_contract_key",
                                               "erphub_contract_version"], 100)
        deals = [(str(r["id"]), r.get("properties") or {}) for r in found]
        return [{"deal_id": i, "stage": p.get("dealstage"), "amount": p.get("amount") or None,
                 "currency": p.get("deal_currency_code") or None, "version": p.get("erphub_contract_version") or 1}
                for i, p in deals if p.get("erphub_contract_key") in (None, "", contract_key)]

    def associated(self, object_type: str, object_id: str, to_type: str) -> list[tuple[str, set[int]]]:
        """(id, association type ids) of every associated record, all pages of the v4 list."""
        found: list[tuple[str, set[int]]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE, **({"after": after} if after else {})}
            body = self.http.json("GET", f"{ASSOCIATIONS}/{object_type}/{quote(object_id, safe='')}/associations/"
                                  f"{to_type}", params=params, record=f"{object_type}/{object_id}") or {}
            found += [(str(r["toObjectId"]), {int(t.get("typeId", 0)) for t in r.get("associationTypes") or []})
                      for r in body.get("results") or []]
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def _read(self, object_type: str, ids: list[str], properties: list[str]) -> list[dict[str, Any]]:
        """Records by id with the named properties (batch read: up to 100 ids a call, missing ids left out)."""
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), 100):
            body = self.http.json("POST", f"{OBJECTS}/{object_type}/batch/read", idempotency_key="read", json={
                "inputs": [{"id": i} for i in ids[start:start + 100]], "properties": properties,
                "propertiesWithHistory": []}, record=f"{object_type}/{ids[start]}")
            records += (body or {}).get("results") or []
        return records

    def update_opportunity(self, opportunity_id: str, fields: dict[str, Any]) -> None:
        self._patch("deals", opportunity_id, fields)
