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
