"""Which vendor plays each kind of system, chosen by environment (CRM_VENDOR=salesforce, BILLING_VENDOR=stripe,
SUCCESS_VENDOR=gainsight|totango, ERP_VENDOR=netsuite), and one connector per vendor configuration per process."""

from __future__ import annotations

import importlib
import os
from typing import Any

from erphub.errors import Permanent

VENDORS: dict[str, dict[str, str]] = {
    "crm": {"salesforce": "salesforce:SalesforceCrm", "hubspot": "hubspot:HubSpotCrm"},
    "billing": {"stripe": "stripe:StripeBilling", "chargebee": "chargebee:ChargebeeBilling",
                "zuora": "zuora:ZuoraBilling"},
    "success": {"gainsight": "gainsight:GainsightSuccess", "totango": "totango:TotangoSuccess"},
    "erp": {"netsuite": "netsuite:NetSuiteErp", "dynamics": "dynamics:DynamicsErp", "sap": "sap:SapErp",
            "oracle": "oracle:OracleErp"},
}
DEFAULTS = {"crm": "salesforce", "billing": "stripe", "success": "gainsight", "erp": "netsuite"}
_connectors: dict[tuple[str, ...], Any] = {}
_CLIENT_OPTIONS = ("CONNECT_TIMEOUT_SECONDS", "TIMEOUT_SECONDS", "MAX_ATTEMPTS", "MAX_RETRY_WAIT_SECONDS")


def vendor(kind: str) -> str:
    return os.environ.get(f"{kind.upper()}_VENDOR") or DEFAULTS[kind]


def connector(kind: str) -> Any:
    """The CrmSystem / BillingSystem / SuccessSystem / ErpSystem configured for this function."""
    name = vendor(kind)
    path = VENDORS[kind].get(name)
    if path is None:
        raise Permanent(f"{kind.upper()}_VENDOR={name} is not a supported {kind} system", system=name)
    prefix = name.upper()
    # the client options are part of a connector's configuration: the sync API's one quick attempt and a
    # workflow adapter's patient retries are two connectors (the local stack runs both in one process)
    options = tuple(os.environ.get(f"CONNECTOR_{o}", "") for o in _CLIENT_OPTIONS)
    key = (kind, name, os.environ.get(f"{prefix}_BASE_URL", ""), os.environ.get(f"{prefix}_SECRET_NAME", ""),
           os.environ.get(f"{prefix}_TIMEOUT_SECONDS", ""), *options)
    if key not in _connectors:
        module, cls = path.split(":")
        _connectors[key] = getattr(importlib.import_module(f"erphub.connectors.{module}"), cls)()
    return _connectors[key]
