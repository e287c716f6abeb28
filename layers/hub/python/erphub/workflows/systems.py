"""Which vendor plays each kind of system, chosen by environment (CRM_VENDOR=salesforce, BILLING_VENDOR=stripe,
SUCCESS_VENDOR=gainsight|totango, ERP_VENDOR=netsuite), and one connector per vendor, kept with the settings it was
configured from (once per process on Lambda)."""

from __future__ import annotations

import importlib
from typing import Any

from erphub.errors import Permanent
from erphub.settings import get_settings

VENDORS: dict[str, dict[str, str]] = {
    "crm": {"salesforce": "salesforce:SalesforceCrm", "hubspot": "hubspot:HubSpotCrm"},
    "billing": {"stripe": "stripe:StripeBilling", "chargebee": "chargebee:ChargebeeBilling",
                "zuora": "zuora:ZuoraBilling"},
    "success": {"gainsight": "gainsight:GainsightSuccess", "totango": "totango:TotangoSuccess"},
    "erp": {"netsuite": "netsuite:NetSuiteErp", "dynamics": "dynamics:DynamicsErp", "sap": "sap:SapErp",
            "oracle": "oracle:OracleErp"},
}
DEFAULTS = {"crm": "salesforce", "billing": "stripe", "success": "gainsight", "erp": "netsuite"}


def vendor(kind: str) -> str:
    return str(getattr(get_settings(), f"{kind}_vendor")) or DEFAULTS[kind]


def connector(kind: str) -> Any:
    """The CrmSystem / BillingSystem / SuccessSystem / ErpSystem configured for this function."""
    name = vendor(kind)
    path = VENDORS[kind].get(name)
    if path is None:
        raise Permanent(f"{kind.upper()}_VENDOR={name} is not a supported {kind} system", system=name)
    module, cls = path.split(":")
    return get_settings().resource(("connector", kind, name),
                                   lambda: getattr(importlib.import_module(f"erphub.connectors.{module}"), cls)())
