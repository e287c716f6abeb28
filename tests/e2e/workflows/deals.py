"""Signed vendor webhooks for the workflow tests: Salesforce outbound messages for opportunities and Gainsight
calls, rendered from the shapes of events/ with the ids a test needs, and posted over HTTP to the gateway."""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from local import webhooks

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000LOCAL</OrganizationId>
   <ActionId>04k5g000000ErPhAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme-saas.my.salesforce.com/services/Soap/c/61.0/00D5g000004AbCd</EnterpriseUrl>
   <PartnerUrl>https://acme-saas.my.salesforce.com/services/Soap/u/61.0/00D5g000004AbCd</PartnerUrl>
   <Notification>
    <Id>{notification}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
{fields}
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""

ENTITIES = [
    {"entity_id": "LE-US", "name": "{name} Inc.", "country": "US", "tax_id": "94-{n}", "currency": "USD",
     "subsidiary": "US01"},
    {"entity_id": "LE-DE", "name": "{name} GmbH", "country": "DE", "tax_id": "DE{n}", "currency": "EUR",
     "subsidiary": "DE01"},
]


def annual_deal_items() -> list[dict[str, Any]]:
    """Scenario (a): platform seats in two entities, API usage with overage in arrears."""
    return [
        {"sku": "PLATFORM-ENT", "name": "Platform Enterprise", "quantity": 100, "unit_price": "1200.00",
         "legal_entity_id": "LE-US"},
        {"sku": "PLATFORM-ENT", "name": "Platform Enterprise", "quantity": 20, "unit_price": "1200.00",
         "legal_entity_id": "LE-DE"},
        {"sku": "API-CALLS", "name": "API calls", "quantity": 1, "unit_price": "0", "legal_entity_id": "LE-US",
         "usage": {"metric": "api_calls", "unit": "call", "included_quantity": "10000000",
                   "overage_unit_price": "0.0004"}},
    ]


class Deal:
    """One customer's opportunities; every webhook gets a fresh notification id."""

    def __init__(self, label: str, entities: int = 2) -> None:
        self.n = str(uuid.uuid4().int)[:9]
        self.label = label
        self.account_id = f"001LOCAL{self.n}"
        self.opportunity_id = f"006LOCAL{self.n}"
        self.name = f"{label} {self.n}"
        self.entities = [json.loads(json.dumps(e).replace("{name}", self.name).replace("{n}", self.n))
                         for e in ENTITIES[:entities]]

    def fields(self, **overrides: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "Id": self.opportunity_id, "AccountId": self.account_id, "Account_Name__c": self.name,
            "Name": f"{self.name} - Platform", "StageName": "Closed Won", "Type": "New Business",
            "Amount": "144000.0", "CurrencyIsoCode": "USD", "CloseDate": "2024-05-31",
            "Billing_Frequency__c": "Annual", "Term_Start__c": "2024-06-01", "Term_End__c": "2025-05-31",
            "Term_Months__c": "12.0", "Contract_Version__c": "1.0", "Non_Standard_Terms__c": "false",
            "Legal_Entities__c": json.dumps(self.entities), "Line_Items__c": json.dumps(annual_deal_items()),
            "Owner_Email__c": "sam.ortiz@acme-saas.example", "LastModifiedDate": "2024-05-31T16:42:07.000Z"}
        fields.update({k: json.dumps(v) if isinstance(v, list) else v for k, v in overrides.items()})
        return fields

    def outbound_message(self, **overrides: Any) -> bytes:
        lines = "\n".join(f"     <sf:{k}>{escape(str(v))}</sf:{k}>" for k, v in self.fields(**overrides).items()
                          if v is not None)
        return ENVELOPE.format(notification=f"04l{uuid.uuid4().hex[:15]}", fields=lines).encode()

    def gainsight(self, event_type: str, **fields: Any) -> bytes:
        body = {"eventId": f"{self.n}-{uuid.uuid4().hex[:8]}", "eventType": event_type,
                "occurredAt": "2024-09-02T06:00:00Z",
                "company": {"gsid": f"1P{self.n}", "name": self.name, "sfdcAccountId": self.account_id,
                            "externalIds": {}}, **fields}
        return json.dumps(body).encode()


EUR_USAGE = {"sku": "API-CALLS", "name": "API calls", "quantity": 1, "unit_price": "0", "legal_entity_id": "LE-DE",
             "usage": {"metric": "api_calls", "unit": "call", "included_quantity": "2000000",
                       "overage_unit_price": "0.00037", "currency": "EUR"}}


class TwoCurrencyDeal(Deal):
    """Seats in a US (USD) and a German (EUR) entity; API usage with overage in each, priced in its currency."""

    def fields(self, **overrides: Any) -> dict[str, Any]:
        return super().fields(**{"Line_Items__c": [*annual_deal_items(), EUR_USAGE], **overrides})


def post(gateway: str, source: str, body: bytes) -> tuple[int, str]:
    return webhooks.post(gateway, source, body)
