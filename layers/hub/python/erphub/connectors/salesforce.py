"""Salesforce CRM through the REST API, with an OAuth 2.0 client-credentials token from the org's token endpoint.

Creates are upserts by an external-id field (`PATCH /sobjects/Account/Erphub_Key__c/<value>`): 201 when
created, 200 when updated, so the same create twice yields one record.

Secret (SALESFORCE_SECRET_NAME): {"client_id", "client_secret"} and optionally "token_url"
(default <base url>/services/oauth2/token). Base URL (SALESFORCE_BASE_URL): https://<domain>.my.salesforce.com
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from erphub.canonical import Account
from erphub.connectors.base import Connector, external_key
from erphub.connectors.credentials import require
from erphub.connectors.http import HttpClient, VendorError, json_or_none, parse_retry_after
from erphub.connectors.interfaces import AccountUpdate, OwnerTask, RecordRef
from erphub.connectors.oauth2 import ClientCredentialsToken, oauth_error
from erphub.errors import Conflict, HubError, RateLimited

API_VERSION = "v60.0"
DATA = f"/services/data/{API_VERSION}"
KEY_FIELD = "Erphub_Key__c"
_EXISTING = re.compile(r"\bid:\s*([A-Za-z0-9]{15,18})")


def parse_error(response: requests.Response) -> VendorError:
    """[{"message": "...", "errorCode": "...", "fields": [...]}]"""
    body = json_or_none(response)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        message = str(first.get("message", ""))
        found = _EXISTING.search(message)
        return VendorError(message, str(first.get("errorCode", "")), found.group(1) if found else None)
    return VendorError(response.text[:300] or response.reason)


def classify(response: requests.Response, vendor: VendorError) -> HubError | None:
    if vendor.code == "REQUEST_LIMIT_EXCEEDED" or response.status_code == 429:  # API limits answer 403 or 429
        return RateLimited(f"salesforce {response.status_code} {vendor.code}: {vendor.message}", system="salesforce",
                           retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if vendor.code in ("DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID") or response.status_code == 300:
        return Conflict(f"salesforce {vendor.code}: {vendor.message}", existing_id=vendor.existing_id,
                        system="salesforce")
    return None


def soql_literal(value: str) -> str:
    """A SOQL string literal: backslash and single quote escaped (SOQL reference, "Quoted String Escape Sequences")."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SalesforceCrm(Connector):
    system = "salesforce"

    def make_client(self) -> HttpClient:
        client_id, secret = require(self.credentials, self.system, "client_id", "client_secret")
        token_url = self.credentials.get("token_url") or f"{self.config.base_url.rstrip('/')}/services/oauth2/token"
        token_client = self.client(error_parser=oauth_error)
        self.token = ClientCredentialsToken(token_client, token_url, {"client_id": client_id, "client_secret": secret})
        # a 401 INVALID_SESSION_ID means the session expired or was revoked: one fresh token, then fail typed
        return self.client(auth=lambda *_: self.token.header(), error_parser=parse_error, classify=classify,
                           reauthenticate=self.token.invalidate)

    def _upsert(self, sobject: str, key: str, fields: dict[str, Any]) -> RecordRef:
        path = f"{DATA}/sobjects/{sobject}/{KEY_FIELD}/{quote(key, safe='')}"
        response = self.http.request("PATCH", path, json=fields, record=f"{sobject}/{key}",
                                     headers={"Content-Type": "application/json"})
        body = json_or_none(response) or {}
        created = body.get("created", response.status_code == 201)
        return RecordRef(system=self.system, kind=sobject, id=str(body.get("id", "")), external_id=key,
                         created=bool(created))

    def get_account(self, account_id: str) -> dict[str, Any]:
        return self.http.json("GET", f"{DATA}/sobjects/Account/{quote(account_id, safe='')}",
                              record=f"Account/{account_id}")

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]:
        return self.http.json("GET", f"{DATA}/sobjects/Opportunity/{quote(opportunity_id, safe='')}",
                              record=f"Opportunity/{opportunity_id}")

    def deals_of_contract(self, contract_key: str) -> list[dict[str, Any]]:
        """Every opportunity of a contract: the first (its Id is the key) and its amendments (Contract_Key__c),
        each with its version and Amount (currency, nillable: "Estimated total sale amount", Object Reference
        v60.0; CurrencyIsoCode exists in multi-currency orgs, which the hub's deals are)."""
        key = soql_literal(contract_key)
        soql = ("SELECT Id, StageName, Amount, CurrencyIsoCode, Contract_Version__c FROM Opportunity "  # noqa: S608  # nosec B608 - literals are escaped
                f"WHERE Contract_Key__c = {key} OR Id = {key} LIMIT 200")
        records = (self.http.json("GET", f"{DATA}/query", params={"q": soql}) or {}).get("records") or []
        return [{"deal_id": str(r["Id"]), "stage": r.get("StageName"), "amount": r.get("Amount"),
                 "currency": r.get("CurrencyIsoCode"), "version": r.get("Contract_Version__c") or 1} for r in records]

    def find_account(self, account: Account) -> str | None:
        """The account the hub would otherwise duplicate: ours by key, else one the sales team made by name."""
        key = external_key(account.account_id)
        where = f"{KEY_FIELD} = {soql_literal(key)} OR Name = {soql_literal(account.name)}"
        soql = f"SELECT Id, {KEY_FIELD} FROM Account WHERE {where} LIMIT 10"  # noqa: S608 - literals are escaped  # nosec B608
        records = (self.http.json("GET", f"{DATA}/query", params={"q": soql}) or {}).get("records") or []
        records.sort(key=lambda r: r.get(KEY_FIELD) != key)  # our own key first
        return str(records[0]["Id"]) if records else None

    def upsert_account(self, account: Account, *, idempotency_key: str) -> RecordRef:
        """Keyed by the account's business id, so every step that upserts this account hits one record."""
        fields = {"Name": account.name, "Website": account.domain, "Industry": account.industry,
                  "BillingCountry": account.country, "Lifecycle_Status__c": account.lifecycle_status}
        return self._upsert("Account", external_key(account.account_id),
                            {k: v for k, v in fields.items() if v is not None})

    def update_account(self, account_id: str, update: AccountUpdate) -> None:
        fields: dict[str, Any] = {
            "Lifecycle_Status__c": update.lifecycle_status,
            "Renewal_Risk__c": update.renewal_risk,
            "Health_Score__c": float(update.health_score) if update.health_score is not None else None,
            "Account_Plan__c": update.account_plan,
        }
        fields.update({f"{system.capitalize()}_Id__c": value for system, value in update.external_ids.items()})
        self.http.request("PATCH", f"{DATA}/sobjects/Account/{quote(account_id, safe='')}",
                          json={k: v for k, v in fields.items() if v is not None},
                          headers={"Content-Type": "application/json"}, record=f"Account/{account_id}")

    def create_task(self, account_id: str, task: OwnerTask, *, idempotency_key: str) -> RecordRef:
        owner = task.owner_id or self.get_account(account_id).get("OwnerId")
        fields = {
            "WhatId": account_id,
            "OwnerId": owner,
            "Subject": task.subject,
            "Description": task.description,
            "ActivityDate": task.due_date.isoformat() if task.due_date else None,
            "Priority": task.priority.capitalize(),
            "Status": "Not Started",
        }
        return self._upsert("Task", external_key(idempotency_key), {k: v for k, v in fields.items() if v is not None})

    def update_opportunity(self, opportunity_id: str, fields: dict[str, Any]) -> None:
        self.http.request("PATCH", f"{DATA}/sobjects/Opportunity/{quote(opportunity_id, safe='')}", json=fields,
                          headers={"Content-Type": "application/json"}, record=f"Opportunity/{opportunity_id}")
