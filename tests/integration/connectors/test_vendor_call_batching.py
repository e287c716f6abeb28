"""A Lambda invocation writes its vendor-call counts once, at its end (erphub.kpis.vendor_calls.per_invocation):
one UpdateItem per vendor and hour instead of one per HTTP attempt, with the same figures, whatever the invocation's
outcome, and never failing the invocation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from erphub import aws
from erphub.adapters import lambda_handler_for
from erphub.connectors.interfaces import ErpCustomer
from erphub.connectors.netsuite import NetSuiteErp
from erphub.errors import Permanent, Transient
from erphub.kpis import vendor_calls

pytestmark = pytest.mark.integration


class Context:
    """Lambda's context as the handlers read it (Powertools' logger reads the names; the tally the time left)."""

    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "f", 512, "arn:aws:lambda:f", "r1"

    def __init__(self, remaining_seconds: float = 30.0) -> None:
        self.remaining_seconds = remaining_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


@pytest.fixture
def counter_writes(kpi_table: str) -> Iterator[list[dict[str, Any]]]:
    """The UpdateItem requests the hub's DynamoDB client sends to the KPI table, in order."""
    sent: list[dict[str, Any]] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == kpi_table:
            sent.append(params)

    events = aws.client("dynamodb").meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", seen)
    yield sent
    events.unregister("provide-client-params.dynamodb.UpdateItem", seen)


def rates() -> dict:
    now = datetime.now(UTC)
    return vendor_calls.error_rates(boto3.client("dynamodb"), "kpis", now - timedelta(hours=24), now)


def throttled_then_failing(sandbox: Any, erp: NetSuiteErp) -> None:
    """Six NetSuite attempts: two 429s, a success, then three 500s that end in Transient."""
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=2, retry_after=0.1)
    erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    sandbox.faults.inject("netsuite", "customer.upsert", kind="500", times=3)
    erp.upsert_customer(ErpCustomer(external_id="C-2", name="Beta"))


def handler(work: Callable[[], Any]) -> Callable[[dict, Any], Any]:
    @vendor_calls.per_invocation
    def lambda_handler(event: dict, context: Any) -> Any:
        return work()

    return lambda_handler


def test_an_invocation_writes_its_counts_once_with_the_figures_of_every_attempt(sandbox, connect, counter_writes):
    # Given an invocation whose six NetSuite attempts end in a typed error
    erp = connect(NetSuiteErp)
    invoke = handler(lambda: throttled_then_failing(sandbox, erp))
    # When it runs, the error reaches the caller as it is
    with pytest.raises(Transient):
        invoke({}, Context())
    # Then one counter write carried all six attempts, and the report reads what one write per attempt gave
    assert len(counter_writes) == 1 and erp.http.attempts == 6
    counted = rates()["netsuite"]
    assert (counted["calls"], counted["errors"], counted["throttles"]) == (6, 5, 2)
    assert counted["by_error"] == {"RateLimited": 2, "Transient": 3} and counted["by_http"] == {"4xx": 2, "5xx": 3}
    assert counted["error_rate"] == round(5 / 6, 4)


@pytest.mark.parametrize("outcome", [None, Permanent("refused", system="netsuite"), ValueError("a bug")])
def test_the_counts_are_written_whatever_the_invocation_ends_with(sandbox, connect, counter_writes, outcome):
    # Given an invocation that makes two calls and then returns, raises a typed error, or crashes
    erp = connect(NetSuiteErp)

    def work() -> str:
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
        erp.upsert_customer(ErpCustomer(external_id="C-2", name="Beta"))
        if outcome is not None:
            raise outcome
        return "done"

    # When it ends, the caller gets its result or its exception unchanged
    if outcome is None:
        assert handler(work)({}, Context()) == "done"
    else:
        with pytest.raises(type(outcome)):
            handler(work)({}, Context())
    # Then its two calls were written in one counter write
    assert len(counter_writes) == 1 and rates()["netsuite"]["calls"] == 2


def test_nothing_is_kept_from_one_invocation_to_the_next(sandbox, connect, counter_writes):
    erp = connect(NetSuiteErp)
    invoke = handler(lambda: erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme")))
    # When two invocations run one after the other
    invoke({}, Context())
    assert rates()["netsuite"]["calls"] == 1  # the first one's count is stored before the second starts
    invoke({}, Context())
    # Then each wrote its own count, and a call outside any invocation is written at once
    erp.upsert_customer(ErpCustomer(external_id="C-2", name="Beta"))
    assert len(counter_writes) == 3 and rates()["netsuite"]["calls"] == 3


def test_each_vendor_and_hour_is_one_counter_item(kpi_table, counter_writes):
    # Given one invocation's attempts across an hour boundary and on two vendors
    before, after = datetime(2026, 12, 1, 9, 59, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with vendor_calls.batched():
        for moment, vendor in [(before, "netsuite"), (after, "netsuite"), (after, "netsuite"), (after, "stripe")]:
            vendor_calls.record(vendor, object(), moment)
        vendor_calls.record("netsuite", Transient("down", system="netsuite"), after)
        assert counter_writes == []  # nothing is written before the invocation ends
    # Then one write per counter item, each adding what its hour and vendor saw
    keys = sorted(w["Key"]["sk"]["S"] for w in counter_writes)
    assert keys == ["2026-12-01T09#netsuite", "2026-12-01T10#netsuite", "2026-12-01T10#stripe"]
    hours = vendor_calls.error_rates(boto3.client("dynamodb"), "kpis", before, after)
    assert (hours["netsuite"]["calls"], hours["netsuite"]["errors"], hours["stripe"]["calls"]) == (4, 1, 1)
    ten = vendor_calls.error_rates(boto3.client("dynamodb"), "kpis", after, after)
    assert (ten["netsuite"]["calls"], ten["netsuite"]["by_http"]) == (3, {"network": 1})


def test_an_invocation_near_its_timeout_writes_at_once(sandbox, connect, counter_writes):
    # Given an invocation with less time left than a next attempt could take (Lambda would stop it mid-call)
    erp = connect(NetSuiteErp)
    writes_during: list[int] = []

    def work() -> None:
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
        writes_during.append(len(counter_writes))

    handler(work)({}, Context(remaining_seconds=2.0))
    # Then the call was counted before the handler went on, and the end of the invocation wrote nothing twice
    assert writes_during == [1] and len(counter_writes) == 1 and rates()["netsuite"]["calls"] == 1


def test_a_failed_counter_write_never_fails_the_invocation(sandbox, connect, kpi_table, hub_settings, capsys,
                                                           caplog):
    # Given a KPI table DynamoDB refuses (here: one that does not exist)
    hub_settings(KPI_TABLE="no-such-table")
    erp = connect(NetSuiteErp)
    invoke = handler(lambda: [erp.upsert_customer(ErpCustomer(external_id=f"C-{i}", name="Acme")) for i in (1, 2)])
    capsys.readouterr()
    # When an invocation calls the vendor twice, it succeeds all the same
    assert len(invoke({}, Context())) == 2
    # And the lost counts are logged and measured, not stored
    [warning] = [r for r in caplog.records if r.getMessage() == "vendor call not counted"]
    assert warning.counts == {"calls": 2}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "vendor_calls_uncounted" in line]
    assert [m["vendor_calls_uncounted"] for m in metrics] == [[2.0]] and rates() == {}


def test_the_adapter_lambdas_count_per_invocation(sandbox, connect, counter_writes, monkeypatch):
    # Given an ERP action that calls NetSuite three times, served by the ERP adapter's Lambda handler
    from erphub.workflows.actions import REGISTRY

    erp = connect(NetSuiteErp)
    monkeypatch.setitem(REGISTRY, "erp.count_probe", lambda run: {"upserted": [
        erp.upsert_customer(ErpCustomer(external_id=f"C-{i}", name="Acme")) is not None for i in (1, 2, 3)]})
    # When the adapter is invoked
    assert lambda_handler_for("erp")({"action": "erp.count_probe"}, Context()) == {"upserted": [True] * 3}
    # Then its three calls were one counter write
    assert len(counter_writes) == 1 and rates()["netsuite"]["calls"] == 3


def test_the_erp_adapter_counts_a_work_queue_batch_per_invocation(sandbox, connect, counter_writes, monkeypatch):
    # Given an ERP step queued on the ERP work queue whose action calls NetSuite three times
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    from erphub import consuming, erp_work
    from erphub.workflows.actions import REGISTRY

    erp = connect(NetSuiteErp)
    monkeypatch.setitem(REGISTRY, "erp.count_probe", lambda run: {"upserted": [
        erp.upsert_customer(ErpCustomer(external_id=f"C-{i}", name="Acme")) is not None for i in (1, 2, 3)]})
    answered = []
    monkeypatch.setattr(erp_work, "_send", lambda outcome, call: answered.append(outcome) or outcome)
    work = consuming.Consumer("erp_work", erp_work.answer, BatchProcessor(event_type=EventType.SQS))
    invoke = erp_work.handler(lambda_handler_for("erp"), work)
    # When the ERP adapter takes the message from its queue
    body = json.dumps({"action": "erp.count_probe", "task_token": "token-1", "workflow": "activation",
                       "state": {"correlation_id": "contract:salesforce:006A"}})
    invoke({"Records": [{"messageId": "m1", "receiptHandle": "rh-m1", "body": body, "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:erp-work",
                         "attributes": {"ApproximateReceiveCount": "1"}}]}, Context())
    # Then the run is answered and its three vendor calls were one counter write
    assert answered == ["succeeded"]
    assert len(counter_writes) == 1 and rates()["netsuite"]["calls"] == 3
