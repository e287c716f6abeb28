"""GET /kinds lists every kind an exception can carry (the console's and the CLI's kind filter), and `resolve`
closes, once and audited, an exception whose cause was fixed outside the hub while refusing one a run waits on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ops_api_events import Context, api_event

from erphub.errors import ValidationFailed
from erphub.operations import audit, kinds, resolutions
from erphub.operations.api import create_app
from erphub.store.exceptions import ExceptionStore
from erphub.store.workflow_state import WorkflowStore

CONSOLE = Path(__file__).resolve().parents[3] / "functions" / "ops_console" / "static"


def call(method: str, path: str, groups: str = "viewer", body: object = None) -> tuple[int, object]:
    answer = create_app().resolve(api_event(method, path, groups, body=body), Context())
    return answer["statusCode"], json.loads(answer["body"])


def test_every_configured_kind_is_listed_with_one_failed_kind_per_workflow():
    status, listed = call("GET", "/ops/v1/kinds")
    assert status == 200
    names = [k["kind"] for k in listed]
    expected = [k for k in kinds.known() if k != kinds.WORKFLOW_FAILED]
    assert set(expected) <= set(names) and "workflow_sla_breached" in names and "<workflow>_failed" not in names
    assert {"activation_failed", "amendment_failed", "renewal_failed", "cancellation_failed"} <= set(names)
    shown = {k["kind"]: k for k in listed}
    assert shown["reconciliation_mismatch"]["actions"] == ["resolve", "abandon"]
    assert (shown["renewal_failed"]["owner"], shown["renewal_failed"]["actions"]) == ("integration-ops",
                                                                                      ["retry", "abandon"])


def test_the_console_keeps_no_list_of_kinds_of_its_own():
    # a hard-coded list is how workflow_sla_breached went missing from the filter
    script = (CONSOLE / "app.js").read_text(encoding="utf-8")
    assert '"/kinds"' in script
    assert not re.search(r'"(data_quality|workflow_sla_breached|outbox_unpublishable)"', script)


def open_one(kind: str, **kw) -> str:
    return WorkflowStore().open_exception("contract:salesforce:006R", "reconciliation", kind, f"{kind} reason",
                                          detail={"error": ""}, **kw)


def test_resolve_closes_once_with_the_note_in_the_audit_trail(tables):
    exception_id = open_one("reconciliation_mismatch")
    status, done = call("POST", f"/ops/v1/exceptions/{exception_id}/resolve", "operator",
                        {"note": "order line set back to 100 seats in NetSuite"})
    assert status == 200 and done["status"] == "resolved"
    assert done["resolution"] == "resolved by ann@example.com: order line set back to 100 seats in NetSuite"
    (entry,) = audit.of_run("contract:salesforce:006R")
    assert (entry["action"], entry["before"]["status"], entry["after"]["status"]) == ("resolve", "open", "resolved")
    assert entry["note"] == "order line set back to 100 seats in NetSuite"
    again, _ = call("POST", f"/ops/v1/exceptions/{exception_id}/resolve", "operator", {"note": "twice"})
    assert again == 409 and len(audit.of_run("contract:salesforce:006R")) == 1


def test_resolve_needs_a_note_and_an_operator(tables):
    exception_id = open_one("workflow_sla_breached")
    assert call("POST", f"/ops/v1/exceptions/{exception_id}/resolve", "operator", {"note": ""})[0] == 422
    assert call("POST", f"/ops/v1/exceptions/{exception_id}/resolve", "viewer", {"note": "x"})[0] == 403
    assert ExceptionStore().get(exception_id)["status"] == "open"


def test_a_kind_a_workflow_waits_on_cannot_be_resolved_around_it(tables):
    waiting = open_one("erp_outage", task_token="token-1")
    with pytest.raises(ValidationFailed, match="erp_outage exception takes resume, abandon"):
        resolutions.resolve(waiting, "looked fine", by="ann")
    waited_on = open_one("reconciliation_mismatch", task_token="token-2")  # never so today: resolve still refuses
    with pytest.raises(ValidationFailed, match="a workflow waits on"):
        resolutions.resolve(waited_on, "looked fine", by="ann")
    assert [ExceptionStore().get(e)["status"] for e in (waiting, waited_on)] == ["open", "open"]
