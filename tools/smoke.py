"""`erphub smoke --stack NAME [--region R]`: check a deployed stack from the outside, as the vendors reach it.

For every source whose webhook secret is usable it signs one test webhook with that secret, exactly as the vendor
signs (local.sandbox.signing), posts it to the stack's WebhookUrl and reads the receipt; then it reads the inbox
item back (DynamoDB GetItem) to see the event was stored and mapped. The test event is of a type no normalizer
routes (`erphub.smoke_test` and the like, one per vendor's envelope), so the publisher's mapping records it as
`ignored`, seconds after the receipt, and nothing happens in the business systems. Ignored events are by design
never published, so the bus is checked through the publishing path instead: the inbox's `unpublished` index must
hold no waiting event older than the sweeper's period. Finally it lists what is still to configure (empty vendor
URLs, connector secrets still `{}`).

It needs AWS credentials allowed cloudformation:DescribeStacks, secretsmanager:GetSecretValue on the stack's
secrets, dynamodb:GetItem and Query on the inbox table, events:DescribeEventBus; it refuses with one line otherwise.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.sandbox import signing

SOURCES = signing.SOURCES
SMOKE_TYPE = "erphub.smoke_test"
STUCK_AFTER = timedelta(minutes=10)  # the outbox sweeper republishes every minute
MAPPED_WITHIN = timedelta(seconds=30)  # the inbox stream maps a stored webhook within seconds
URL_PARAMETERS = {"CrmBaseUrl": "CRM", "BillingBaseUrl": "billing", "SuccessBaseUrl": "customer success",
                  "ErpBaseUrl": "ERP"}
VENDOR_PARAMETERS = ("CrmVendor", "BillingVendor", "SuccessVendor", "ErpVendor")
Clients = Callable[[str], Any]
Out = Callable[[str], None]


class SmokeRefused(Exception):
    """The smoke test cannot run at all (no credentials, no stack, not an erphub stack): one line for the user."""


@dataclass
class DeployedStack:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    def output(self, key: str) -> str:
        if not self.outputs.get(key):
            raise SmokeRefused(f"stack {self.name} has no {key} output: is it an erphub stack of this version?")
        return self.outputs[key]


@dataclass
class SmokeEvent:
    body: bytes
    vendor_event_id: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceResult:
    source: str
    ok: bool
    detail: str


def describe(clients: Clients, name: str) -> DeployedStack:
    from botocore.exceptions import ClientError

    try:
        stacks = clients("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise SmokeRefused(f"stack {name} not found in this account and region (check --stack and --region)") \
                from exc
        raise
    stack = stacks[0]
    status = stack.get("StackStatus", "")
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status or "DELETE" in status:
        raise SmokeRefused(f"stack {name} is {status}: deploy it successfully first")
    return DeployedStack(name, {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
                         {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])})


def smoke_event(source: str, run_id: str, now: datetime) -> SmokeEvent:
    """One test event in the vendor's own envelope, of a type the source's normalizer does not route."""
    epoch, stamp = int(now.timestamp()), now.isoformat().replace("+00:00", "Z")
    if source == "stripe":
        event_id = f"evt_erphub_smoke_{run_id}"
        return SmokeEvent(_json({"id": event_id, "object": "event", "type": SMOKE_TYPE, "created": epoch,
                                 "livemode": False, "data": {"object": {"object": "erphub_smoke_test"}}}), event_id)
    if source == "hubspot":
        number, portal = int(run_id[:12], 16), 0
        return SmokeEvent(_json([{"eventId": number, "portalId": portal, "subscriptionType": SMOKE_TYPE,
                                  "occurredAt": epoch * 1000, "objectId": 0, "attemptNumber": 0}]),
                          f"{portal}:{number}")
    if source == "salesforce":
        notification = f"04lSMOKE{run_id[:10].upper()}"
        return SmokeEvent(_outbound_message(notification, stamp), notification)
    if source == "chargebee":
        event_id = f"ev_erphub_smoke_{run_id}"
        return SmokeEvent(_json({"id": event_id, "occurred_at": epoch, "event_type": "erphub_smoke_test",
                                 "api_version": "v2", "content": {}}), event_id)
    if source == "zuora":
        notification = f"erphub-smoke-{run_id}"
        return SmokeEvent(_json({"eventType": "ErphubSmokeTest", "account": {}}), notification,
                          {"notification_id": notification})
    if source == "gainsight":
        event_id = f"erphub-smoke-{run_id}"
        return SmokeEvent(_json({"eventId": event_id, "eventType": "erphub_smoke_test", "occurredAt": stamp,
                                 "company": {"gsid": "erphub-smoke"}}), event_id)
    if source == "totango":
        event_id = f"erphub-smoke-{run_id}"
        return SmokeEvent(_json({"eventId": event_id, "eventType": "erphub_smoke_test", "occurredAt": stamp,
                                 "account": {"id": "erphub_smoke"}}), event_id)
    raise ValueError(f"no smoke event for source {source!r}")


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _outbound_message(notification_id: str, stamp: str) -> bytes:
    # the OrganizationId is written in by local.sandbox.signing (the first allowed organization of the secret)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000000</OrganizationId>
   <ActionId>04kSMOKE0000000000</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://erphub-smoke.invalid/services/Soap/c/61.0</EnterpriseUrl>
   <PartnerUrl>https://erphub-smoke.invalid/services/Soap/u/61.0</PartnerUrl>
   <Notification>
    <Id>{notification_id}</Id>
    <sObject xsi:type="sf:ErphubSmokeTest__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>a00SMOKE0000000000</sf:Id>
     <sf:LastModifiedDate>{stamp}</sf:LastModifiedDate>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
""".encode()


def webhook_secret(clients: Clients, name: str) -> tuple[dict[str, Any] | None, str]:
    """(the secret, "") when it can sign a test webhook, else (None, why not)."""
    from botocore.exceptions import ClientError

    try:
        value = json.loads(clients("secretsmanager").get_secret_value(SecretId=name)["SecretString"])
    except ClientError as exc:
        return None, f"secret {name}: {exc.response['Error']['Code']}"
    except ValueError:
        return None, f"secret {name} is not JSON"
    if not isinstance(value, dict) or not value.get("current"):
        return None, f"secret {name} has no `current` value"
    if name.endswith("/salesforce") and not value.get("organization_ids"):
        return None, f"secret {name} allows no organization yet: set organization_ids"
    return value, ""


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    if not url.startswith(("https://", "http://")):
        return 0, f"not an http(s) URL: {url}"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - the stack's URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) only, above  # nosec B310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError as error:
        return 0, f"{type(error).__name__}: {error}"


def check_source(clients: Clients, stack: DeployedStack, source: str, run_id: str) -> SourceResult | None:
    """Send one signed test webhook and read its inbox item back; None when the source is not configured."""
    credentials, why_not = webhook_secret(clients, stack.output("WebhookSecretPrefix") + source)
    if credentials is None:
        return SourceResult(source, False, f"not sent: {why_not}") if "organization" in why_not else None
    event = smoke_event(source, run_id, datetime.now(UTC))
    url = signing.endpoint_url(source, f"{stack.output('WebhookUrl')}/{source}", credentials)
    headers, body = signing.sign(source, event.body, credentials, url, **event.options)
    status, answer = post(url, headers, body)
    if status not in (200, 202):
        return SourceResult(source, False, f"{status or 'no answer'} {answer[:200]}")
    stored = _inbox_status(clients, stack.output("InboxTableName"), f"{source}#{event.vendor_event_id}")
    receipt = _receipt_status(answer)
    if stored != "ignored":
        return SourceResult(source, False, f"{status} {receipt}, but the inbox item is {stored or 'missing'}")
    return SourceResult(source, True, f"{status} {receipt}; stored in the inbox as ignored ({event.vendor_event_id})")


def _receipt_status(answer: str) -> str:
    try:
        return str(json.loads(answer).get("status", "?"))
    except (ValueError, AttributeError):
        return "SOAP Ack" if "<Ack>true</Ack>" in answer else answer[:80]


def _inbox_status(clients: Clients, table: str, key: str) -> str | None:
    """The item's status once the publisher has mapped it (the ack path stores it `received`; the inbox stream maps
    it within seconds), or the last one seen after MAPPED_WITHIN; None if it was never stored."""
    deadline, status = time.monotonic() + MAPPED_WITHIN.total_seconds(), None
    while True:
        item = clients("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
        status = str(item["status"]["S"]) if item else None
        if (status is not None and status != "received") or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def publishing_backlog(clients: Clients, stack: DeployedStack) -> int:
    """Stored events still not on the bus after STUCK_AFTER (0 when the stream and the sweeper keep up)."""
    cutoff = (datetime.now(UTC) - STUCK_AFTER).isoformat()
    response = clients("dynamodb").query(
        TableName=stack.output("InboxTableName"), IndexName="unpublished", Select="COUNT",
        KeyConditionExpression="unpublished = :one AND received_at < :cutoff",
        ExpressionAttributeValues={":one": {"S": "1"}, ":cutoff": {"S": cutoff}})
    return int(response["Count"])


def still_to_configure(clients: Clients, stack: DeployedStack) -> list[str]:
    todo = [f"{name} is empty: the workflows' {system} steps fail as not configured"
            for name, system in URL_PARAMETERS.items() if name in stack.parameters and not stack.parameters[name]]
    prefix = stack.output("ConnectorSecretPrefix")
    for vendor in sorted({stack.parameters[p] for p in VENDOR_PARAMETERS if stack.parameters.get(p)}):
        try:
            value = json.loads(clients("secretsmanager").get_secret_value(SecretId=prefix + vendor)["SecretString"])
        except Exception as exc:  # any failure to read it is worth one line, not a traceback
            todo.append(f"connector secret {prefix}{vendor} cannot be read: {type(exc).__name__}")
            continue
        if not value:
            todo.append(f"connector secret {prefix}{vendor} still holds {{}}: put the {vendor} credentials in")
    return todo


def run(clients: Clients, stack_name: str, out: Out = print) -> int:
    """The whole smoke test: 0 when every configured source's test webhook was stored and the bus path keeps up."""
    stack = describe(clients, stack_name)
    out(f"Stack {stack.name}: webhooks at {stack.output('WebhookUrl')}/<source>")
    run_id = uuid.uuid4().hex[:16]
    results = [r for r in (check_source(clients, stack, s, run_id) for s in SOURCES) if r is not None]
    sent = {r.source for r in results}
    for result in results:
        out(f"  {result.source:<11} {'ok  ' if result.ok else 'FAIL'} {result.detail}")
    for source in SOURCES:
        if source not in sent:
            out(f"  {source:<11} skip no usable secret {stack.output('WebhookSecretPrefix')}{source}")
    backlog = publishing_backlog(clients, stack)
    bus = clients("events").describe_event_bus(Name=stack.output("EventBusName"))["Arn"]
    out(f"Bus {bus}: smoke events are ignored by design, so never published; publishing path: "
        f"{backlog} accepted event(s) waiting over {int(STUCK_AFTER.total_seconds() // 60)} min for the bus")
    todo = still_to_configure(clients, stack)
    out("Still to configure:" if todo else "Nothing left to configure that the smoke test can see.")
    for line in todo:
        out(f"  - {line}")
    if not results:
        out("No source has a usable webhook secret: nothing was sent (docs/deploy.md, webhook secrets)")
        return 1
    return 0 if all(r.ok for r in results) and backlog == 0 else 1


def aws_clients(region: str | None) -> Clients:
    """boto3 clients of the caller's credentials; refuses with one line when there are none or no region."""
    import functools

    import boto3
    from botocore.exceptions import BotoCoreError, NoCredentialsError, NoRegionError

    session = boto3.session.Session(region_name=region)
    try:
        if session.get_credentials() is None:
            raise NoCredentialsError()
        session.client("cloudformation")
    except NoCredentialsError as exc:
        raise SmokeRefused("no AWS credentials found: set AWS_PROFILE (or run `aws configure` / `aws sso login`)") \
            from exc
    except NoRegionError as exc:
        raise SmokeRefused("no AWS region: pass --region or set AWS_REGION") from exc
    except BotoCoreError as exc:
        raise SmokeRefused(f"AWS is not usable here: {exc}") from exc
    return functools.cache(lambda service: session.client(service))
