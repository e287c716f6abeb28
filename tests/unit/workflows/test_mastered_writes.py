"""A write that would overwrite a field another system masters is refused and recorded, the rest is written."""

from erphub.store.workflow_state import WorkflowStore
from erphub.workflows import systems
from erphub.workflows.actions.crm import update_account
from erphub.workflows.run import Run


class FakeCrm:
    system = "salesforce"

    def __init__(self):
        self.updates = []

    def update_account(self, account_id, update):
        self.updates.append((account_id, update.model_dump(exclude_defaults=True)))


def test_a_success_signal_cannot_rename_the_crm_account(tables, monkeypatch):
    crm = FakeCrm()
    monkeypatch.setattr(systems, "connector", lambda kind: crm)
    monkeypatch.setattr("erphub.workflows.actions.crm.connector", lambda kind: crm)
    run = Run(action="crm.risk", state={"correlation_id": "account:salesforce:001"})
    # When customer success sends a risk level and (wrongly) a lifecycle status
    result = update_account(run, "001", {"renewal_risk": "high", "lifecycle_status": "churned"}, "gainsight")
    # Then only the risk is written; the status, mastered by the hub, is refused and recorded
    assert crm.updates == [("001", {"renewal_risk": "high"})]
    assert result["refused"] == ["lifecycle_status"]
    [refusal] = WorkflowStore().refusals("account:salesforce:001")
    assert (refusal["field"], refusal["writer"], refusal["master"]) == ("lifecycle_status", "success", "hub")


def _renewal_run(account: dict) -> Run:
    """A renewal's set_status call for a deal whose CRM account the identity step did not resolve."""
    contract = {"kind": "contract", "contract_id": "006R1", "version": 1, "account": account}
    event = {"event_id": "e-1", "type": "crm.opportunity.renewed", "source": "hubspot", "source_event_id": "h-1",
             "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "contract:hubspot:006R1",
             "business_key": "006R1", "data": contract}
    return Run(action="crm.set_status", workflow="renewal", status="renewed", state={"event": event})


def test_a_deal_without_a_crm_account_id_uses_the_id_its_account_holds_for_the_crm(tables, monkeypatch):
    from erphub.workflows.actions.crm import set_status

    crm = FakeCrm()
    monkeypatch.setattr("erphub.workflows.actions.crm.connector", lambda kind: crm)
    # Given a renewal whose account carries no CRM account id, only the id it holds for Salesforce
    run = _renewal_run({"kind": "account", "account_id": "", "name": "Acme",
                        "external_ids": {"salesforce": "001SF"}})
    # When the CRM status is written back (this raised AttributeError: a Contract has no external_ids)
    result = set_status(run)
    # Then the status goes to that Salesforce account
    assert crm.updates == [("001SF", {"lifecycle_status": "renewed"})]
    assert result["account"] == "001SF"


def test_a_deal_keeps_its_own_crm_account_id_first(tables, monkeypatch):
    from erphub.workflows.actions.crm import set_status

    crm = FakeCrm()
    monkeypatch.setattr("erphub.workflows.actions.crm.connector", lambda kind: crm)
    run = _renewal_run({"kind": "account", "account_id": "001OWN", "name": "Acme",
                        "external_ids": {"salesforce": "001SF"}})
    assert set_status(run)["account"] == "001OWN"
