"""The limits behind "whatever the bytes": JSON depth, numbers and Unicode, Salesforce XML, timestamps,
DynamoDB item sizes and transactions, S3 keys of claim checks."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from sources_support import sample

from erphub.errors import BadEnvelope, Permanent, Unmappable
from erphub.sources import _common, safe_json
from erphub.sources.mapping import _common as mapping_common
from erphub.sources.salesforce import soap
from erphub.store import inbox, raw_bodies

pytestmark = pytest.mark.unit


# --- JSON -------------------------------------------------------------------------------------------------
def test_nesting_depth_ignores_brackets_inside_strings():
    assert safe_json.nesting_depth(b'{"a": "[[[[{{{{", "b": [[1]]}') == 3
    assert safe_json.nesting_depth(b'"\\"[[[["') == 0


@pytest.mark.parametrize("depth", [65, 10_000, 200_000])
def test_json_deeper_than_the_limit_is_refused_before_parsing(depth):
    with pytest.raises(BadEnvelope, match="nested deeper than 64"):
        safe_json.loads(b"[" * depth + b"]" * depth, "stripe")


def test_json_at_the_depth_limit_parses():
    assert safe_json.loads(b"[" * 64 + b"]" * 64, "stripe") == json.loads(b"[" * 64 + b"]" * 64)


@pytest.mark.parametrize("number", [b"9" * 41, b"9" * 5000, b"1." + b"0" * 60, b"-" + b"1" * 45])
def test_number_literals_over_40_characters_are_refused(number):
    with pytest.raises(BadEnvelope, match="number of"):
        safe_json.loads(b'{"amount": ' + number + b"}", "stripe")


@pytest.mark.parametrize("body", [b'{"a": NaN}', b"[Infinity]", b"-Infinity"])
def test_nan_and_infinity_are_not_json(body):
    with pytest.raises(BadEnvelope):
        safe_json.loads(body, "stripe")


@pytest.mark.parametrize("body", [b'{"id": "\\ud800"}', b'["\\udfff x"]', b'{"\\udbff": 1}'])
def test_lone_surrogates_are_refused(body):
    with pytest.raises(BadEnvelope, match="surrogate"):
        safe_json.loads(body, "stripe")


def test_a_surrogate_pair_is_unicode_and_accepted():
    assert safe_json.loads(b'{"emoji": "\\ud83d\\ude00"}', "stripe") == {"emoji": "\U0001f600"}


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b'{"a":', b'{"a":1}{"b":2}'])
def test_not_json_is_a_bad_envelope(body):
    with pytest.raises(BadEnvelope, match="not JSON"):
        safe_json.loads(body, "stripe")


# --- vendor timestamps --------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [10**30, -(10**20), "9" * 400, "\u0661\u0662", "1e9", 1.5, True, [1], {"a": 1}])
def test_epoch_values_out_of_range_or_of_the_wrong_type_are_unmappable(value):
    with pytest.raises(Unmappable):
        mapping_common.from_epoch(value)
    with pytest.raises(Unmappable):
        mapping_common.from_epoch_ms(value)


def test_epoch_values_at_the_edges_of_datetime_are_mapped():
    assert mapping_common.from_epoch(253_402_300_799).year == 9999
    assert mapping_common.from_epoch("1717200000").year == 2024
    assert mapping_common.from_epoch_ms(1_717_200_000_123).microsecond == 123_000


@pytest.mark.parametrize(("text", "ok"), [("1717200000", True), ("\u0661\u0667", False), ("\u00b2", False),
                                          ("9" * 13, False), ("", False), ("-1", False)])
def test_signature_timestamps_are_ascii_digits_of_bounded_length(text, ok):
    assert _common.is_epoch_text(text, max_digits=12) is ok


# --- Salesforce XML -----------------------------------------------------------------------------------------
ORG = "00D5g000004AbCdEAF"


def test_the_organization_is_read_without_parsing_the_notifications():
    body = sample("salesforce/opportunity_closed_won.xml")
    cut = body[: body.index(b"<Notification>")]  # not even well-formed after the OrganizationId
    assert soap.organization_id(cut) == ORG


def test_only_the_messages_own_organization_counts():
    # Given an allowed organization id hidden inside a field, before the message's own
    body = sample("salesforce/opportunity_closed_won.xml").replace(
        b"<ActionId>", b'<ActionId><OrganizationId xmlns="http://soap.sforce.com/2005/09/outbound">00DALLOWED'
                       b"</OrganizationId>", 1)
    moved = body.replace(f"<OrganizationId>{ORG}</OrganizationId>".encode(), b"", 1).replace(
        b"</PartnerUrl>", f"</PartnerUrl><OrganizationId>{ORG}</OrganizationId>".encode(), 1)
    # Then the message's own is read, wherever it stands among its siblings
    assert soap.organization_id(moved) == ORG == soap.parse_message(moved).organization_id


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_dtd_in_another_encoding_is_refused(encoding):
    xml = (f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
           "<x>&a;</x>")
    with pytest.raises(BadEnvelope):
        soap.parse_message(xml.encode(encoding))


@pytest.mark.parametrize("dtd", ['<!DOCTYPE x SYSTEM "file:///etc/passwd">', '<!DOCTYPE x [<!ENTITY a "a">]>'])
def test_the_parser_itself_refuses_a_dtd_when_the_byte_filter_misses_it(monkeypatch, dtd):
    # Given the byte filter is blind (as it is to any encoding it does not expect)
    monkeypatch.setattr(soap, "_FORBIDDEN", re.compile(rb"(?!)"))
    # Then defusedxml still refuses the DTD
    with pytest.raises(BadEnvelope, match="safe XML"):
        soap.parse_message(f'<?xml version="1.0"?>{dtd}<x/>'.encode())


@pytest.mark.parametrize("depth", [33, 10_000])
def test_xml_deeper_than_the_limit_is_refused(depth):
    body = b"<a>" * depth + b"</a>" * depth
    with pytest.raises(BadEnvelope, match="nested deeper than 32"):
        soap.parse_message(body)


def test_each_notification_of_a_batch_is_kept_alone_and_the_tree_is_restored():
    message = soap.parse_message(sample("salesforce/opportunity_batch.xml"))
    assert len(message.notifications) > 1
    for notification in message.notifications:
        alone = soap.parse_message(notification.raw)
        assert [n.notification_id for n in alone.notifications] == [notification.notification_id]
        assert alone.organization_id == message.organization_id


# --- DynamoDB sizes and transactions -----------------------------------------------------------------------
def item(key: str, body: bytes = b"") -> dict:
    return {"pk": {"S": key}, "raw_body": {"B": body}, "headers": {"M": {"a": {"S": "b"}}}}


def test_item_bytes_counts_names_and_values_in_utf8():
    assert inbox.item_bytes({"pk": {"S": "é"}}) == 2 + 2
    assert inbox.item_bytes(item("k", b"x" * 1000)) >= 1000 + len("raw_body") + 1 + len("pk")


def test_transactions_hold_at_most_100_items_and_4_mb_and_no_key_twice():
    many = [item(f"k{i}") for i in range(250)] + [item("k0")]
    groups = inbox._transactions(many)
    assert [len(g) for g in groups] == [100, 100, 50]
    big = [item(f"b{i}", b"x" * 390_000) for i in range(25)]
    assert all(sum(inbox.item_bytes(i) for i in g.values()) <= 4 * 1024 * 1024 for g in inbox._transactions(big))
    assert sum(len(g) for g in inbox._transactions(big)) == 25


# --- claim checks -----------------------------------------------------------------------------------------
def test_s3_keys_of_long_or_unsafe_ids_are_bounded_and_distinct():
    assert raw_bodies._safe("evt_123") == "evt_123"
    assert raw_bodies._safe("a/b") != raw_bodies._safe("a:b")
    assert len(raw_bodies._safe("x" * 2040)) < 200


class FakeS3:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def get_object(self, Bucket: str, Key: str) -> dict:
        return {"Body": io.BytesIO(self.body)}


@pytest.fixture
def s3(monkeypatch):
    def install(body: bytes) -> None:
        monkeypatch.setattr(raw_bodies.aws, "client", lambda service: FakeS3(body))

    return install


def test_a_claim_check_resolves_to_the_stored_event(s3):
    event = json.dumps({"event_id": "e1", "data": {"kind": "x"}}).encode()
    s3(event)
    detail = {"event_id": "e1", raw_bodies.CLAIM_CHECK: {"uri": "s3://b/raw/events/e1.json", "bytes": len(event),
                                                          "sha256": hashlib.sha256(event).hexdigest()}}
    assert raw_bodies.resolve_event(detail) == json.loads(event)
    assert raw_bodies.resolve_event({"event_id": "e2", "data": {}}) == {"event_id": "e2", "data": {}}


def test_a_claim_check_that_does_not_match_its_checksum_or_event_is_refused(s3):
    event = json.dumps({"event_id": "other"}).encode()
    s3(event)
    claim = {"uri": "s3://b/k", "bytes": 1, "sha256": hashlib.sha256(event).hexdigest()}
    with pytest.raises(Permanent, match="another event"):
        raw_bodies.resolve_event({"event_id": "e1", raw_bodies.CLAIM_CHECK: claim})
    with pytest.raises(Permanent, match="checksum"):
        raw_bodies.resolve_event({"event_id": "other", raw_bodies.CLAIM_CHECK: {**claim, "sha256": "0" * 64}})


def test_a_claimed_event_keeps_every_envelope_field_but_data():
    event = json.dumps({"event_id": "e1", "type": "t", "business_key": "k", "data": {"big": "x" * 10}})
    detail = json.loads(raw_bodies.claimed_event(event, {"uri": "s3://b/k"}))
    assert detail == {"event_id": "e1", "type": "t", "business_key": "k", raw_bodies.CLAIM_CHECK: {"uri": "s3://b/k"}}



@pytest.mark.parametrize("value", ["1" * 1_000_000, "1e999999", "1e-30", "NaN", "-Infinity", "12.5.3"])
def test_a_vendor_number_that_is_no_business_number_is_unmappable(value):
    # found by the concurrent fuzz campaign: a million-digit Term_Months__c became an int that the claim-check
    # step could not read back (502); now it is quarantined like any other unmappable field
    with pytest.raises(Unmappable):
        mapping_common.decimal(value, field="Term_Months__c", system="salesforce")


@pytest.mark.parametrize("value", ["0", "12", "1200000.50", "0.0004", "999999999999999999"])
def test_business_numbers_still_map(value):
    assert str(mapping_common.decimal(value, field="Amount", system="salesforce")) == value


@pytest.mark.parametrize("body", [
    b'{"id": "\xed\xa0\x80"}',                         # a surrogate as raw UTF-8 bytes (json decodes surrogatepass)
    b'{"id": "\\uDc00"}',                              # an escape in mixed case
    '{"id": "\ud800"}'.encode("utf-16-le", "surrogatepass"),  # UTF-16 text holding a lone surrogate code unit
    '{"id": "\udfff"}'.encode("utf-32-be", "surrogatepass"),
])
def test_lone_surrogates_are_refused_however_they_are_encoded(body):
    with pytest.raises(BadEnvelope, match="surrogate"):
        safe_json.loads(body, "stripe")


def test_many_brackets_that_do_not_nest_deep_parse():
    # Given more opening brackets than the depth limit, side by side (a batch of 100 events), not nested
    body = b"[" + b",".join(b'{"id": [1]}' for _ in range(100)) + b"]"
    # Then the body parses
    assert len(safe_json.loads(body, "hubspot")) == 100


@pytest.mark.parametrize("body", [
    b'{"amount": ' + b"9" * 40 + b"}",             # a number at the limit
    b'{"id": "' + b"1" * 60 + b'"}',               # a long run of digits that is text, not a number
    b'{"note": "e' + b"e" * 60 + b'"}',
])
def test_long_runs_that_are_not_too_long_numbers_parse(body):
    assert safe_json.loads(body, "stripe") == json.loads(body)
