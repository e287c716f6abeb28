"""`erphub up --crm/--billing/--erp`: the flags override samconfig's vendor parameters for that stack only."""

from pathlib import Path

import pytest

from local import cli
from local.template import Template

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


class StackSeen(Exception):
    """Raised by the stand-in stack so `up` stops before starting anything."""


def _up_with(monkeypatch, *flags: str) -> dict:
    seen: dict = {}

    def stack(template, **kwargs):
        seen.update(kwargs, template=template)
        raise StackSeen

    monkeypatch.setattr("local.stack.HubStack", stack)
    with pytest.raises(StackSeen):
        cli.main(["up", *flags])
    return seen


def test_vendor_flags_become_parameter_overrides_of_the_stack(monkeypatch):
    seen = _up_with(monkeypatch, "--crm", "hubspot", "--billing", "chargebee", "--erp", "dynamics")
    assert seen["parameter_overrides"] == {"CrmVendor": "hubspot", "BillingVendor": "chargebee",
                                           "ErpVendor": "dynamics"}
    assert seen["env_name"] == "local"
    # and they win over samconfig's values for those parameters, the others stay samconfig's
    template = Template(ROOT / "template.yaml", seen["parameter_overrides"], "local")
    assert (template.parameters["CrmVendor"], template.parameters["ErpVendor"]) == ("hubspot", "dynamics")
    assert template.parameters["SuccessVendor"] == Template(ROOT / "template.yaml").parameters["SuccessVendor"]


def test_without_flags_samconfig_decides(monkeypatch):
    assert _up_with(monkeypatch)["parameter_overrides"] is None
