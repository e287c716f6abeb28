"""The Outbound Message SOAP envelope: safe parsing into notifications, and the Ack Salesforce waits for.

An Outbound Message (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm)
is one `notifications` element with OrganizationId, ActionId, SessionId, EnterpriseUrl, PartnerUrl and up to
100 `Notification` elements, each an Id and one sObject (xsi:type="sf:Opportunity") whose children are the
fields the admin selected. Salesforce resends the whole message until it gets `<Ack>true</Ack>`.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # types and serialization only; parsing is defusedxml's  # nosec B405
from collections.abc import Iterator
from dataclasses import dataclass, field

import defusedxml.ElementTree as safe_et

from erphub.errors import BadEnvelope

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
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
# an Outbound Message is Envelope/Body/notifications/Notification/sObject/field: 6 levels
MAX_DEPTH = 32


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


def organization_id(body: bytes) -> str:
    """The message's OrganizationId, read as far as needed and no further (it precedes the notifications),
    so a message from an organization that is not allowed is refused before the rest is parsed."""
    path = [f"{{{SOAP_NS}}}Envelope", f"{{{SOAP_NS}}}Body", f"{{{OUTBOUND_NS}}}notifications",
            f"{{{OUTBOUND_NS}}}OrganizationId"]
    open_tags: list[str] = []
    for event, element in _events(body):
        if event == "start":
            open_tags.append(element.tag)
            continue
        if open_tags == path:  # the message's own, not one nested anywhere else
            return (element.text or "").strip()
        open_tags.pop()
    raise _fail("outbound message has no OrganizationId")


def _events(body: bytes) -> Iterator[tuple[str, ET.Element]]:
    """Parse events of a safe, shallow, UTF-8 document; BadEnvelope for anything else.

    defusedxml refuses DTDs, entities and external references whatever the encoding (a UTF-16 body
    carries its DOCTYPE past any byte filter); NUL bytes mean UTF-16/32, which Salesforce never sends.
    """
    if _FORBIDDEN.search(body):
        raise _fail("XML with a DOCTYPE or ENTITY declaration is refused")
    if b"\x00" in body:
        raise _fail("body is not UTF-8 XML (it holds NUL bytes)")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(f"body is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    depth = 0
    try:
        for event, element in safe_et.iterparse(io.BytesIO(body), events=("start", "end"), forbid_dtd=True):
            depth += 1 if event == "start" else -1
            if depth > MAX_DEPTH:
                raise _fail(f"XML nested deeper than {MAX_DEPTH} elements")
            yield event, element
    except (ET.ParseError, ValueError, LookupError) as exc:  # ValueError: defusedxml's refusals
        raise _fail(f"body is not well-formed, safe XML ({str(exc)[:200]})") from exc


def parse_message(body: bytes) -> OutboundMessage:
    root: ET.Element | None = None
    for event, element in _events(body):
        if event == "end":
            root = element  # the last element to end is the document's root
    if root is None:
        raise _fail("body is empty")
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise _fail("body is not a SOAP envelope")
    message = root.find(f"{{{SOAP_NS}}}Body/{{{OUTBOUND_NS}}}notifications")
    if message is None:
        raise _fail("SOAP body holds no outbound-message notifications element")

    def text(tag: str) -> str:
        return (message.findtext(f"{{{OUTBOUND_NS}}}{tag}") or "").strip()

    organization = text("OrganizationId")
    if not organization:
        raise _fail("outbound message has no OrganizationId")
    elements = message.findall(f"{{{OUTBOUND_NS}}}Notification")
    if not elements:
        raise _fail("outbound message has no Notification")
    if len(elements) > MAX_NOTIFICATIONS:
        raise _fail(f"outbound message has {len(elements)} notifications, more than {MAX_NOTIFICATIONS}")
    return OutboundMessage(
        organization_id=organization,
        action_id=text("ActionId"),
        enterprise_url=text("EnterpriseUrl"),
        partner_url=text("PartnerUrl"),
        notifications=[_notification(element, raw) for element, raw in zip(elements, _alone(root, message, elements),
                                                                           strict=True)],
    )


def _alone(root: ET.Element, message: ET.Element, notifications: list[ET.Element]) -> list[bytes]:
    """The whole Outbound Message once per notification, holding only that one: what Salesforce would send
    for it alone. The tree is trimmed in place and restored (a copy per notification costs 100x the body)."""
    children = list(message)
    batch = {id(n) for n in notifications}
    singles = []
    try:
        for notification in notifications:
            message[:] = [child for child in children if id(child) not in batch or child is notification]
            singles.append(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    finally:
        message[:] = children
    return singles


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
