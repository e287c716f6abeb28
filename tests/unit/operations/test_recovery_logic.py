"""The pure parts of recovery: where a DLQ message's reason is found first, the inbox lookup key, replay names and
rule patterns, and the times moto keeps in its archive."""

from __future__ import annotations

import json
import re

import pytest

from erphub.operations import archive
from erphub.operations.dead_letters import _reason
from erphub.store.inbox import MAX_KEY_BYTES, lookup_key
from local.moto_replay import _epoch

CONSUMER = {"erphub.error_type": "NotFound", "erphub.error": "customer not activated", "erphub.receive_count": "4",
            "erphub.consumer": "erp_posting"}
RECORD = {"error_type": "Transient", "error": "ERP unavailable", "receive_count": 3, "attempts": 3,
          "consumer": "erp_posting"}
EVENTBRIDGE = {"ERROR_CODE": "SQS.AccessDenied", "ERROR_MESSAGE": "denied", "RETRY_ATTEMPTS": "185",
               "RULE_ARN": "arn:aws:events:us-east-1:1:rule/bus/ActivationRule"}
LAMBDA = json.dumps({"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 21,
                                        "functionArn": "arn:aws:lambda:us-east-1:1:function:publisher"},
                     "responseContext": {"functionError": "Unhandled"}})


def test_the_consumers_own_reason_wins_and_keeps_the_recorded_attempts():
    reason = _reason({**CONSUMER, **EVENTBRIDGE}, RECORD, LAMBDA)
    assert (reason.recorded_by, reason.error_type, reason.receive_count, reason.attempts) == ("consumer", "NotFound",
                                                                                               4, 3)


@pytest.mark.parametrize(("attributes", "record", "body", "expected"), [
    ({}, RECORD, LAMBDA, ("failure_record", "Transient")),
    (EVENTBRIDGE, None, "{}", ("eventbridge", "SQS.AccessDenied")),
    ({}, None, LAMBDA, ("lambda_destination", "Unhandled")),
    ({}, None, "{not json", ("none", "unknown")),
])
def test_a_reason_is_found_where_each_path_left_it(attributes, record, body, expected):
    reason = _reason(attributes, record, body)
    assert (reason.recorded_by, reason.error_type) == expected and reason.error


def test_the_lookup_key_lists_quarantined_items_and_indexes_mapped_ones_within_dynamodbs_key_size():
    assert lookup_key("quarantined", "") == lookup_key("quarantined", "006X") == "quarantined"
    assert lookup_key("accepted", "006X") == "business#006X"
    assert lookup_key("ignored", "") == ""
    too_long = "é" * (MAX_KEY_BYTES // 2)
    assert lookup_key("accepted", too_long) == ""  # kept out of the index rather than refused by DynamoDB


def test_replay_names_fit_eventbridges_rules():
    name = archive._replay_name("crm.opportunity.closed_won" * 4)
    assert len(name) <= 64 and re.fullmatch(r"[.\-_A-Za-z0-9]+", name)
    assert archive._replay_name("a") != archive._replay_name("a")  # a name cannot be reused


def test_only_exact_detail_types_of_a_rule_count():
    rule = {"EventPattern": json.dumps({"source": ["erphub"], "detail-type": ["a", {"prefix": "b"}]})}
    assert archive._detail_types(rule) == ["a"]
    assert archive._detail_types({"EventPattern": "not json"}) == []
    assert archive._detail_types({}) == []


@pytest.mark.parametrize(("value", "expected"), [
    (1717200000, 1717200000.0), ("1717200000.5", 1717200000.5), ("2024-06-01T00:00:00Z", 1717200000.0),
    ("2024-06-01T00:00:00", 1717200000.0), ("yesterday", None), (None, None)])
def test_archived_event_times_are_read_in_every_form_moto_keeps_them(value, expected):
    assert _epoch(value) == expected
