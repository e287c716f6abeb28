"""The run history of a deal: its webhooks, canonical events, execution steps, failure and exception, in time
order, from bounded reads; another source is one function."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests import webhooks

pytestmark = pytest.mark.integration
DEAL = "18213454561"  # the deal of events/hubspot/deal.closedwon.json


@pytest.fixture(scope="module")
def failed_activation(stack):
    """A closed-won HubSpot deal whose activation fails at its first vendor call (no CRM is configured here)."""
    receipt = webhooks.post(stack.endpoints["gateway"], "hubspot", webhooks.sample("hubspot/deal.closedwon.json"))
    assert receipt.json()["status"] == "accepted"
    sfn = stack.client("stepfunctions")
    arn = stack.physical("CustomerActivationStateMachine").replace(":stateMachine:", ":execution:") + f":{DEAL}-v1"

    def stopped() -> bool:
        try:
            return sfn.describe_execution(executionArn=arn)["status"] != "RUNNING"
        except sfn.exceptions.ExecutionDoesNotExist:
            return False

    stack.wait_until(stopped, timeout=30, interval=0.2)
    # the deal's webhook, as the publisher mapped it (the batch's other event, its association, is ignored)
    items = [webhooks.mapped_item(stack, r["event_id"]) for r in receipt.json()["events"]]
    return next({"correlation_id": i["correlation_id"]["S"]} for i in items if i["status"]["S"] == "published")


def test_a_deals_timeline_tells_its_story_in_order(operator, failed_activation):
    from erphub.operations import timeline

    found = timeline.timeline("deal", DEAL)
    story = [(e.kind, e.summary) for e in found.entries]
    # Then the operator reads, in order: the webhook, its event, the execution and its steps, the failure with
    # its reason, the exception it opened
    def first(kind: str, text: str) -> int:
        return next(i for i, (k, s) in enumerate(story) if k == kind and text in s)

    assert (first("webhook", "deal.propertyChange received") < first("event", "crm.opportunity.closed_won published")
            < first("execution", f"{DEAL}-v1: execution started") < first("step", "FetchDeal")
            < first("step", "task failed") < first("exception", "activation_failed exception opened")
            < first("execution", "execution failed"))
    assert "is not configured" in story[first("step", "task failed")][1]
    assert [e.at for e in found.entries] == sorted(e.at for e in found.entries)
    assert found.correlation_ids == [failed_activation["correlation_id"]]
    assert not found.truncated and found.unavailable == []


def test_reads_are_bounded_and_say_so(operator, failed_activation, monkeypatch):
    from erphub.operations import timeline

    monkeypatch.setattr(timeline, "MAX_HISTORY_EVENTS", 3)
    found = timeline.timeline("contract", DEAL)
    assert found.truncated and len([e for e in found.entries if e.kind == "step"]) <= 3


def test_another_source_is_one_function_and_a_failing_source_does_not_hide_the_rest(operator, failed_activation,
                                                                                   monkeypatch):
    from erphub.errors import Transient
    from erphub.operations import timeline

    def audit(scope):
        return [timeline.TimelineEntry(at=datetime.now(UTC), kind="operator_action", summary="noted by ana")], False

    def broken(scope):
        raise Transient("the audit table is unreachable")

    monkeypatch.setattr(timeline, "SOURCES", [*timeline.SOURCES, audit, broken])
    found = timeline.timeline("deal", DEAL)
    assert found.entries[-1].summary == "noted by ana" and found.unavailable == ["broken"]
    assert any(e.kind == "webhook" for e in found.entries)


def test_an_unknown_customer_has_an_empty_timeline(operator):
    from erphub.operations import timeline

    found = timeline.timeline("customer", "cust-unknown")
    assert found.entries == [] and found.business_keys == []


@pytest.mark.parametrize(("subject", "subject_id"), [("invoice", DEAL), ("deal", ""), ("deal", "  "),
                                                     ("contract", "x" * 600)])
def test_a_timeline_needs_a_known_subject_and_a_sensible_id(operator, subject, subject_id):
    from erphub.errors import ValidationFailed
    from erphub.operations import timeline

    with pytest.raises(ValidationFailed):
        timeline.timeline(subject, subject_id)
