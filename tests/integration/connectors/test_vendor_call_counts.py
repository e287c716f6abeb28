"""Each outbound vendor call is counted per vendor and hour in the KPI table (erphub.kpis.vendor_calls), the source
of the KPIs' API error rates; counting never fails the call it observes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from erphub.connectors.interfaces import ErpCustomer
from erphub.connectors.netsuite import NetSuiteErp
from erphub.errors import Transient
from erphub.kpis import vendor_calls

pytestmark = pytest.mark.integration


def rates() -> dict:
    now = datetime.now(UTC)
    return vendor_calls.error_rates(boto3.client("dynamodb"), "kpis", now - timedelta(hours=24), now)


def test_calls_errors_and_throttles_are_counted_per_vendor(sandbox, connect, kpi_table):
    # Given a NetSuite answering 429 twice before serving a call
    erp = connect(NetSuiteErp)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=2, retry_after=0.1)
    erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    # When the next call meets a 500 on every one of its three attempts
    sandbox.faults.inject("netsuite", "customer.upsert", kind="500", times=3)
    with pytest.raises(Transient):
        erp.upsert_customer(ErpCustomer(external_id="C-2", name="Beta"))
    # Then every attempt is a call, and each failed one an error by type and HTTP class
    counted = rates()["netsuite"]
    assert counted["calls"] == erp.http.attempts == 6
    assert counted["errors"] == 5 and counted["throttles"] == 2
    assert counted["by_error"] == {"RateLimited": 2, "Transient": 3} and counted["by_http"] == {"4xx": 2, "5xx": 3}
    assert counted["error_rate"] == round(5 / 6, 4)


def test_a_failed_count_never_fails_the_call(sandbox, connect, kpi_table, hub_settings):
    # Given a KPI table that does not exist (a misconfiguration, or DynamoDB refusing the write)
    hub_settings(KPI_TABLE="no-such-table")
    erp = connect(NetSuiteErp)
    # When a call is made, it succeeds all the same
    assert erp.upsert_customer(ErpCustomer(external_id="C-3", name="Gamma"))
    # And nothing was counted
    assert rates() == {}
