"""The Outbound Message SOAP envelope: safe parsing into notifications, and the Ack Salesforce waits for.

An Outbound Message (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm)
is one `notifications` element with OrganizationId, ActionId, SessionId, EnterpriseUrl, PartnerUrl and up to
100 `Notification` elements, each an Id and one sObject (xsi:type="sf:Opportunity") whose children are the
fields the admin selected. Salesforce resends the whole message until it gets `<Ack>true</Ack>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from copy import deepcopy
from dataclasses import dataclass, field

from erphub.errors import BadEnvelope

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
    "<soapenv:Body>"
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body>"
    "</soapenv:Envelope>"
)
CONTENT_TYPE = "text/xml; charset=utf-8"

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Notification:
    notification_id: str
    sobject_type: str
    fields: dict[str, str | None]
    raw: bytes


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    enterprise_url: str
    partner_url: str
    notifications: list[Notification] = field(default_factory=list)


def _fail(reason: str) -> BadEnvelope:
    return BadEnvelope(f"salesforce: {reason}", system="salesforce")


def parse_message(body: bytes) -> OutboundMessage:
    if _FORBIDDEN.search(body):
        raise _fail("XML with a DOCTYPE or ENTITY declaration is refused")
    try:
        body.decode("utf-8")
        root = ET.fromstring(body)  # noqa: S314 - no DOCTYPE: no entity  # nosec B314
    except (UnicodeDecodeError, ET.ParseError) as exc:
        raise _fail(f"body is not well-formed UTF-8 XML ({exc})") from exc
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise _fail("body is not a SOAP envelope")
    message = root.find(f"{{{SOAP_NS}}}Body/{{{OUTBOUND_NS}}}notifications")
    if message is None:
        raise _fail("SOAP body holds no outbound-message notifications element")

    def text(tag: str) -> str:
        return (message.findtext(f"{{{OUTBOUND_NS}}}{tag}") or "").strip()

    organization_id = text("OrganizationId")
    if not organization_id:
        raise _fail("outbound message has no OrganizationId")
    elements = message.findall(f"{{{OUTBOUND_NS}}}Notification")
    if not elements:
        raise _fail("outbound message has no Notification")
    if len(elements) > MAX_NOTIFICATIONS:
        raise _fail(f"outbound message has {len(elements)} notifications, more than {MAX_NOTIFICATIONS}")
    return OutboundMessage(
        organization_id=organization_id,
        action_id=text("ActionId"),
        enterprise_url=text("EnterpriseUrl"),
        partner_url=text("PartnerUrl"),
        notifications=[_notification(element, _alone(root, i)) for i, element in enumerate(elements)],
    )


def _alone(root: ET.Element, index: int) -> bytes:
    """The whole Outbound Message with only its index-th notification: what Salesforce would send for it alone."""
    copy = deepcopy(root)
    message = copy.find(f"{{{SOAP_NS}}}Body/{{{OUTBOUND_NS}}}notifications")
    assert message is not None
    for position, other in enumerate(message.findall(f"{{{OUTBOUND_NS}}}Notification")):
        if position != index:
            message.remove(other)
    return ET.tostring(copy, encoding="utf-8", xml_declaration=True)


def _notification(element: ET.Element, raw: bytes) -> Notification:
    notification_id = (element.findtext(f"{{{OUTBOUND_NS}}}Id") or "").strip()
    sobject = element.find(f"{{{OUTBOUND_NS}}}sObject")
    if not notification_id or sobject is None:
        raise _fail("a Notification has no Id or no sObject")
    sobject_type = sobject.get(f"{{{XSI_NS}}}type", "").rpartition(":")[2]
    if not sobject_type:
        raise _fail(f"notification {notification_id} has an sObject without xsi:type")
    fields: dict[str, str | None] = {}
    for child in sobject:
        name = child.tag.rpartition("}")[2]
        nil = child.get(f"{{{XSI_NS}}}nil") == "true"
        fields[name] = None if nil else (child.text or "")
    return Notification(notification_id, sobject_type, fields, raw)
