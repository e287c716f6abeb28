"""Salesforce Outbound Messages: organization allow list + endpoint token, SOAP notifications, the SOAP Ack.

Salesforce does not sign Outbound Messages. A request is authentic when
- the endpoint URL carries `?token=<secret>` equal (constant time) to an active secret of the source; the
  admin puts the token in the Outbound Message's Endpoint URL, which is the one thing Salesforce lets them
  configure, and rotates it by setting `previous` while both URLs are live;
- the message's OrganizationId is in credentials.organization_ids (15- or 18-character ids both match).
Each Notification is one VendorEvent (id = Notification Id, which Salesforce keeps across redeliveries);
type = the sObject type. Field conventions and routing: see erphub.sources.salesforce.mapping, imported only by
normalize (it needs the canonical pydantic models; the ack path, verify + parse + acknowledge, imports none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from erphub.errors import AuthenticationFailed
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal
from erphub.sources.salesforce import soap

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "salesforce"
TOKEN_PARAMETER = "token"  # noqa: S105 - a query parameter name, not a secret


class SalesforceSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        tokens = parse_qs(urlsplit(request.url).query).get(TOKEN_PARAMETER, [])
        if len(tokens) != 1 or not any_equal(tokens[0], credentials.active):
            raise AuthenticationFailed("salesforce: endpoint token missing or not an active secret", system=NAME)
        if not credentials.organization_ids:
            raise AuthenticationFailed("salesforce: no organization ids are allowed for this source", system=NAME)
        organization = soap.organization_id(request.body)
        if not any_equal(organization[:15], [org[:15] for org in credentials.organization_ids]):
            raise AuthenticationFailed(f"salesforce: organization {organization} is not allowed", system=NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        message = soap.parse_message(request.body)
        context = {"OrganizationId": message.organization_id, "ActionId": message.action_id,
                   "EnterpriseUrl": message.enterprise_url, "PartnerUrl": message.partner_url}
        return [
            VendorEvent(n.notification_id, n.sobject_type,
                        {**context, "NotificationId": n.notification_id, "sObjectType": n.sobject_type,
                         "fields": n.fields},
                        n.raw)
            for n in message.notifications
        ]

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.salesforce import mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return soap.CONTENT_TYPE, soap.ACK


source = SalesforceSource()
