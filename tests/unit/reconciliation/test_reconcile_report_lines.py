"""`erphub ops reconcile`'s readable report: a contract-value mismatch shows the CRM's value, the others billing's
and the ERP's, as before."""

from __future__ import annotations

from erphub_cli.reconcile import readable


def test_each_mismatch_shows_the_systems_it_compares(capsys):
    report = {"reconciliation_id": "r1", "status": "completed", "checked": 1, "matched": 0, "mismatched": 1,
              "failed": 0, "exceptions_opened": 2, "contracts": [{"contract_id": "C1", "outcome": "mismatched",
              "mismatches": [
                  {"contract_id": "C1", "entity": "", "sku": "006A", "field": "contract_value",
                   "contract": "144000 USD", "billing": None, "erp": None, "crm": "150000 USD", "exception_id": "x1"},
                  {"contract_id": "C1", "entity": "LE-US", "sku": "SEATS", "field": "quantity", "contract": "100",
                   "billing": "100", "erp": "90", "exception_id": "x2"}]}]}
    readable(report)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == ["  C1 006A contract_value: contract 144000 USD, CRM 150000 USD  [x1]",
                         "  C1 LE-US SEATS quantity: contract 100, billing 100, ERP 90  [x2]"]
