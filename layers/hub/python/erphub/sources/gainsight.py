"""Gainsight Rules Engine "Call External API" actions: a shared token header and customer-success signals.

Gainsight does not sign outbound calls; the custom connector behind the rule's external action sends a
header the admin configures. The hub's convention: header `X-Gainsight-Token: <secret>`, compared in constant
time against both active secrets (rotate by adding the new value as `current` and the old as `previous`).

The body is the action's JSON payload, whose keys the admin maps from the rule's dataset. The hub expects:
  {"eventId": unique per signal (e.g. the Scorecard Fact GSID + modified date; optional, else a hash of the
               body so a retried call is still a duplicate),
   "eventType": "renewal_risk_changed" | "onboarding_milestone_completed" | "cancellation_requested",
   "occurredAt": ISO 8601,
   "company": {"gsid", "name", "sfdcAccountId", "externalIds": {system: id}},
   renewal risk: "riskLevel" (Low/Medium/High/Critical), "healthScore", "previousHealthScore", "reason",
                 "renewalDate"; without riskLevel the score decides (< 50 high, < 75 medium, else low);
   milestone:    "milestone", "completedAt";
   cancellation: "contractId", "subscriptionId", "effective" (at_period_end | immediately), "reason",
                 "requestedBy"}
Business key: the Gainsight company GSID. Correlation: the CRM account when sfdcAccountId is mapped
(account:salesforce:<id>, the same id CRM events use), else account:gainsight:<gsid>.

The mapping into canonical events is erphub.sources.mapping.gainsight, imported only by normalize (the ack
path imports no pydantic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from erphub.sources import success_signals as signals
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "gainsight"
TOKEN_HEADER = "X-Gainsight-Token"  # noqa: S105 - a header name, not a secret


class GainsightSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        signals.verify_token(request, credentials, TOKEN_HEADER, NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        return signals.parse_signal(request, NAME, "company")

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.mapping import gainsight as mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


source = GainsightSource()
