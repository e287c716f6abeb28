"""Adapter dispatch and the order of ERP posting, without AWS."""

import json

import pytest

from erphub import adapters, erp_posting
from erphub.errors import Permanent


def test_an_adapter_serves_only_its_own_systems_actions():
    with pytest.raises(Permanent) as refused:
        adapters.handle("crm", {"action": "billing.activate", "state": {}})
    assert "crm adapter has no action 'billing.activate'" in refused.value.reason


def test_an_unknown_action_is_refused_permanently():
    with pytest.raises(Permanent):
        adapters.handle("erp", {"action": "erp.teleport", "state": {}})


def record(detail_type, n):
    return {"messageId": str(n), "body": json.dumps({"detail-type": detail_type, "detail": {}})}


def test_within_a_batch_invoices_go_before_payments_and_the_order_is_otherwise_kept():
    batch = [record("billing.payment.succeeded", 1), record("billing.invoice.finalized", 2),
             record("billing.payment.failed", 3), record("billing.invoice.paid", 4)]
    assert [r["messageId"] for r in erp_posting.invoices_first(batch)] == ["2", "4", "1", "3"]


def test_an_adapters_typed_error_comes_back_as_itself(monkeypatch, hub_settings):
    class FakeLambda:
        def invoke(self, **_):
            payload = json.dumps({"errorType": "NotFound", "errorMessage": "invoice in_1 is not in the ERP yet"})
            return {"FunctionError": "Unhandled", "Payload": type("P", (), {"read": lambda self: payload.encode()})()}

    from erphub import aws
    from erphub.errors import NotFound

    hub_settings(ERP_ADAPTER_FUNCTION="erp-adapter")
    monkeypatch.setattr(aws, "client", lambda service: FakeLambda())
    with pytest.raises(NotFound, match="not in the ERP yet"):
        adapters.invoke("erp", "erp.post_payment", state={})
