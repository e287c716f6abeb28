"""Totango SuccessPlay webhooks ("call a webhook" action): a shared token header and customer-success signals.

Totango documents no signature for the webhooks its SuccessPlays call (tests/contracts/totango/api.json lists
what was and was not found); the action sends the headers and JSON body the admin configures. The hub's
convention: header `X-Totango-Token: <secret>`, compared in constant time against both active secrets.

The body, mapped from the play's account attributes:
  {"eventId": unique per signal (optional, else a hash of the body),
   "eventType": "health_changed" | "renewal_risk_changed" | "onboarding_milestone_completed"
                | "cancellation_requested",
   "occurredAt": ISO 8601,
   "account": {"id": the Totango account id, "name", "crmAccountId", "crmSystem": salesforce | hubspot},
   health / renewal risk: "health": {"current": Good | Average | Poor, "previous", "reason"}, "score",
                          "previousScore", "renewalDate"; Poor -> high, Average -> medium, Good -> low
                          (Totango's health values); without a health value the score decides as for Gainsight;
   milestone:    "milestone", "completedAt";
   cancellation: "contractId", "subscriptionId", "effective" (at_period_end | immediately), "reason",
                 "requestedBy"}
Business key: the Totango account id. Correlation: the CRM account (account:<crm>:<id>) when mapped.

The mapping into canonical events is erphub.sources.mapping.totango, imported only by normalize (the ack
path imports no pydantic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from erphub.sources import success_signals as signals
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "totango"
TOKEN_HEADER = "X-Totango-Token"  # noqa: S105 - a header name, not a secret


class TotangoSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        signals.verify_token(request, credentials, TOKEN_HEADER, NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        return signals.parse_signal(request, NAME, "account")

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.mapping import totango as mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


source = TotangoSource()
