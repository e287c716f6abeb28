"""The requests of the fuzz campaign (bench/fuzz.py): what an attacker or a broken vendor sends.

Every case is (source, kind, url, headers, body). Kinds:
- malformed: bodies that are not the vendor's envelope (bytes, broken JSON/XML, hostile nesting, numbers,
  surrogates, entity bombs, UTF-16), validly signed so that they reach the parser;
- unsigned: real samples without any credential;
- wrongly_signed: wrong secret, tampered body, odd timestamps (non-ASCII digits, 400 digits, far past);
- bizarre: real samples, validly signed, with fields replaced by values of the wrong type, size or range;
- limits: API Gateway's header limit (one long header, 90-150 headers), DynamoDB's (ids over 2048 bytes,
  batches over 100 events), bodies over the function's 1 MB, unknown sources. (Bodies over the gateway's
  10 MB are left to tests/e2e/ingest: 10,000 of them would only measure the loopback.)
"""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import webhooks

from local.webhooks import signed_request

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("stripe", "hubspot", "salesforce", "chargebee", "zuora", "gainsight")
KINDS = {"malformed": 25, "unsigned": 12, "wrongly_signed": 13, "bizarre": 45, "limits": 5}


@dataclass
class Case:
    source: str
    kind: str
    url: str
    headers: dict[str, str]
    body: bytes
    label: str
    options: dict[str, Any] = field(default_factory=dict)


def samples() -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for source in SOURCES:
        files = sorted((ROOT / "events" / source).glob("*.xml" if source == "salesforce" else "*.json"))
        found[source] = [f.read_bytes() for f in files]
    return found


class Generator:
    def __init__(self, gateway: str, seed: int = 0) -> None:
        self.gateway, self.rng, self.samples = gateway, random.Random(seed), samples()

    def case(self) -> Case:
        kind = self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        source = self.rng.choice(SOURCES)
        return getattr(self, f"_{kind}")(source)

    # --- kinds ---------------------------------------------------------------------------------------
    def _malformed(self, source: str) -> Case:
        label, body = self.rng.choice(MALFORMED)(self.rng, source)
        return self._signed(source, "malformed", label, body)

    def _unsigned(self, source: str) -> Case:
        body, _ = self._fresh(source, self.rng.choice(self.samples[source]))
        url = f"{self.gateway}/webhooks/{source}"
        return Case(source, "unsigned", url, {"Content-Type": "application/json"}, body, "no credential")

    def _wrongly_signed(self, source: str) -> Case:
        body, options = self._fresh(source, self.rng.choice(self.samples[source]))
        how = self.rng.choice(["secret", "tamper", "timestamp"])
        if how == "secret":
            return self._signed(source, "wrongly_signed", "wrong secret", body, secret="not-" + uuid.uuid4().hex)
        odd = self.rng.choice(["١٧١٧٢٠٠٠٠٠", "²³", "9" * 400, "-5", "0", "1e9", "+1717200000", "0x10", "ÿ"])
        case = self._signed(source, "wrongly_signed", f"{how} {odd[:10]}", body, **options)
        if source in ("stripe", "hubspot") and how == "tamper":
            case.body = case.body.replace(b"0", b"1", 1) if b"0" in case.body else case.body + b" "
        elif source == "stripe":
            case.headers["Stripe-Signature"] = re.sub(r"t=\d+", f"t={odd}", case.headers["Stripe-Signature"])
        elif source == "hubspot":
            case.headers["X-HubSpot-Request-Timestamp"] = odd
        elif source == "salesforce":  # these schemes do not sign the body: corrupt the credential instead
            case.url = case.url.replace("token=", f"token={odd}")
        elif source == "gainsight":
            case.headers["X-Gainsight-Token"] = odd + case.headers["X-Gainsight-Token"]
        else:
            case.headers["Authorization"] = "Basic " + odd
        return case

    def _bizarre(self, source: str) -> Case:
        body, options = self._fresh(source, self.rng.choice(self.samples[source]))
        if source == "salesforce":
            label, body = mutate_xml(self.rng, body)
        else:
            label, document = mutate_json(self.rng, json.loads(body))
            # surrogatepass: a lone surrogate goes out as the invalid UTF-8 a broken client would send
            body = json.dumps(document, ensure_ascii=self.rng.random() < 0.5).encode("utf-8", "surrogatepass")
        return self._signed(source, "bizarre", label, body, **options)

    def _limits(self, source: str) -> Case:
        body, options = self._fresh(source, self.rng.choice(self.samples[source]))
        which = self.rng.choice(["headers", "many_headers", "long_id", "big_body", "unknown_source", "batch"])
        if which == "unknown_source":
            return Case("quickbooks", "limits", f"{self.gateway}/webhooks/quick%20books", {}, body, which)
        if which == "long_id" and source == "zuora":
            label, options = "id of 3000 bytes", {"notification_id": "x" * 3000}
        elif which == "long_id" and source != "salesforce":
            label, body = "id of 3000 bytes", webhooks.with_vendor_id(source, body, "x" * 3000)
        elif which == "big_body":
            label, body = "body over 1 MB", body + b" " * (1_048_576 + self.rng.randint(1, 2000))
        elif which == "batch" and source in ("hubspot", "salesforce"):
            label, body = "batch of 101 events", _batch(source, body, 101)
        else:
            label = which
        case = self._signed(source, "limits", label, body, **options)
        if which == "headers":
            case.headers["X-Padding"] = "p" * self.rng.choice([9000, 11000, 60000])
        elif which == "many_headers":
            case.headers.update({f"X-Pad-{i}": "v" * 100 for i in range(self.rng.choice([90, 150]))})
        return case

    # --- helpers -------------------------------------------------------------------------------------
    def _signed(self, source: str, kind: str, label: str, body: bytes, **options: Any) -> Case:
        url, headers, signed = signed_request(source, f"{self.gateway}/webhooks/{source}", body, **options)
        return Case(source, kind, url, dict(headers), signed, label, options)

    def _fresh(self, source: str, body: bytes) -> tuple[bytes, dict[str, Any]]:
        return webhooks.fresh(source, body)


def _batch(source: str, body: bytes, size: int) -> bytes:
    if source == "hubspot":
        event = json.loads(body)[-1]
        return json.dumps([{**event, "eventId": event["eventId"] * 1000 + i} for i in range(size)]).encode()
    start, end = body.index(b"<Notification>"), body.index(b"</Notification>") + len(b"</Notification>")
    one = body[start:end]
    many = b"".join(re.sub(rb"<Id>04l[^<]*</Id>", f"<Id>04lB{uuid.uuid4().hex[:10]}{i:03d}</Id>".encode(), one)
                    for i in range(size))
    return body[:start] + many + body[end:]


# --- hostile bodies ------------------------------------------------------------------------------------
def _deep_json(rng: random.Random, source: str) -> tuple[str, bytes]:
    depth = rng.choice([65, 1000, 10_000, 100_000])
    return f"JSON nested {depth} deep", b"[" * depth + b"]" * depth


def _big_int(rng: random.Random, source: str) -> tuple[str, bytes]:
    digits = rng.choice([41, 400, 4301, 5000, 50_000])
    return f"integer of {digits} digits", b'{"id": "evt_1", "object": "event", "created": ' + b"9" * digits + b"}"


def _surrogate(rng: random.Random, source: str) -> tuple[str, bytes]:
    return "lone surrogate", b'{"id": "evt_\\ud800", "object": "event", "type": "x\\udfff", "data": {"object": {}}}'


def _not_json(rng: random.Random, source: str) -> tuple[str, bytes]:
    choices = [b"", b"null", b"[]", b"{}", b"NaN", b'{"a": Infinity}', b"\xff\xfe\x00", b'{"unterminated": "',
               bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000))), b"\x00" * 100, b'"' * 5000,
               b"[" + b"1," * 100_000 + b"1]", b'{"a":1}' * 3]
    return "not the envelope", rng.choice(choices)


def _xml_bomb(rng: random.Random, source: str) -> tuple[str, bytes]:
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">&lol2;</soapenv:Envelope>")
    encoding = rng.choice(["utf-8", "utf-16-le", "utf-16", "utf-32"])
    if encoding != "utf-8":
        bomb = bomb.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    return f"entity bomb in {encoding}", bomb.encode(encoding)


def _deep_xml(rng: random.Random, source: str) -> tuple[str, bytes]:
    depth = rng.choice([33, 1000, 10_000, 50_000])
    org = "<OrganizationId>00D000000000LOCAL</OrganizationId>"
    inner = "<a>" * depth + "</a>" * depth
    return f"XML nested {depth} deep", (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<notifications xmlns="http://soap.sforce.com/2005/09/outbound">{org}{inner}</notifications>'
        "</soapenv:Body></soapenv:Envelope>").encode()


MALFORMED = [_deep_json, _big_int, _surrogate, _not_json, _xml_bomb, _deep_xml]


# --- mutations of real samples -------------------------------------------------------------------------
def bizarre_value(rng: random.Random) -> Any:
    choices: list[Any] = [
        None, True, False, 0, -1, 2**63, -(2**63), 10**39, 1e308, -1e-308, 0.1, "", " ", "0", "-1", "NaN",
        "Infinity", "1e999999", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", "2024-02-30", "T",
        253402300800, 253402300800000, -62135596801, "١٢٣", "²", "\u0000", "\u202e\u200f", "😀" * 50,
        "x" * rng.choice([300, 5000, 300_000]), [], {}, [1, "a", None], {"id": {"id": {"id": "x"}}},
        {"a": json.loads("[" * 20 + "1" + "]" * 20)}, ["x"] * 1000, "<script>alert(1)</script>",
        "' OR '1'='1", "../../etc/passwd", "%00", "\\ud800", "\ud800", "a/b:c#d?e",
    ]
    return copy.deepcopy(rng.choice(choices))


def mutate_json(rng: random.Random, document: Any) -> tuple[str, Any]:
    paths = list(_paths(document))
    labels = []
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        value = bizarre_value(rng)
        if not path:
            return f"document replaced by {type(value).__name__}", value
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
        labels.append(f"{'.'.join(map(str, path))}={type(value).__name__}")
        paths = list(_paths(document))
    return ", ".join(labels), document


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Any:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            yield from _paths(item, (*prefix, index))


_FIELD = re.compile(rb"(<sf:[A-Za-z_]+>)([^<]*)(</sf:[A-Za-z_]+>)")


def mutate_xml(rng: random.Random, body: bytes) -> tuple[str, bytes]:
    fields = list(_FIELD.finditer(body))
    how = rng.choice(["field", "field", "field", "structure"])
    if how == "structure" or not fields:
        edits = [(b"</sObject>", b"<sf:Extra><sf:Deeper>" + b"<x>" * 20 + b"</x>" * 20 + b"</sf:Deeper></sf:Extra>"
                  b"</sObject>"), (b"<Id>", b"<Id><![CDATA["), (b"</Id>", b"]]></Id>"),
                 (b"<notifications", b"<?pi data?><notifications"), (b'xsi:type="sf:', b'xsi:type="other:'),
                 (b"<Notification>", b"<Notification><Notification>")]
        old, new = rng.choice(edits)
        return f"structure {old.decode()}", body.replace(old, new, 1)
    match = rng.choice(fields)
    value = bizarre_value(rng)
    text = (json.dumps(value) if not isinstance(value, str) else value).encode("utf-8", "surrogatepass")
    text = text.replace(b"&", b"&amp;").replace(b"<", b"&lt;")
    if b"\x00" in text or b"\xed" in text:  # not representable in XML: the vendor cannot send it
        text = b"&#x1F600;"
    label = f"{match.group(1).decode()}={type(value).__name__}"
    return label, body[:match.start(2)] + text + body[match.end(2):]

