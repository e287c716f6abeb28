"""CRM write-back: when the deal's account is not in the CRM, the account is looked up before one is created."""

import pytest

from erphub.connectors.interfaces import RecordRef
from erphub.errors import NotFound
from erphub.store.identity_table import IdentityStore
from erphub.workflows.actions import crm as crm_actions
from erphub.workflows.run import Run

DEAL_ACCOUNT = "0015g00000AbCdEAAZ"


class FakeCrm:
    system = "salesforce"

    def __init__(self, existing: str | None):
        self.existing, self.updated, self.created = existing, [], []

    def update_account(self, account_id, update):
        if account_id == DEAL_ACCOUNT:
            raise NotFound(f"no account {account_id}", system=self.system)
        self.updated.append(account_id)

    def find_account(self, account):
        return self.existing

    def upsert_account(self, account, *, idempotency_key):
        self.created.append(account.account_id)
        return RecordRef(system=self.system, kind="Account", id="001NEW", created=True)


def _run() -> Run:
    contract = {"kind": "contract", "contract_id": "006A", "version": 1,
                "account": {"account_id": DEAL_ACCOUNT, "name": "Acme Robotics Inc."}}
    envelope = {"event_id": "e1", "type": "crm.opportunity.closed_won", "source": "salesforce",
                "source_event_id": "n1", "occurred_at": "2024-05-31T16:42:07Z", "correlation_id": "c1",
                "business_key": "006A", "version": "1", "data": contract}
    return Run(action="crm.activate_account", workflow="activation",
               state={"event": envelope, "identity": {"customer_id": "cust-1", "xrefs": {}}})


@pytest.mark.parametrize(("existing", "written_to", "created"), [("001FOUND", "001FOUND", []),
                                                                 (None, "001NEW", [DEAL_ACCOUNT])])
def test_write_back_finds_the_account_before_creating_one(tables, monkeypatch, existing, written_to, created):
    crm = FakeCrm(existing)
    monkeypatch.setattr(crm_actions, "connector", lambda kind: crm)
    # Given a deal whose account id is not in the CRM
    result = crm_actions.activate_account(_run())
    # Then an account found by key or name is used; only when none is found is one created
    assert crm.created == created and crm.updated == [written_to] and result["account"] == written_to
    assert IdentityStore().xrefs("cust-1")["salesforce/upserted"] == written_to
