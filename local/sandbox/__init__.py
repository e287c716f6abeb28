"""The vendor sandbox: every vendor API the connectors use, on one loopback HTTP server, with faults.

    sandbox = local.sandbox.start()
    sandbox.base_url("netsuite"); sandbox.credentials("netsuite")
    sandbox.faults.inject("netsuite", "salesOrder.upsert", kind="429", times=2, retry_after=1)
    sandbox.limit_concurrency("netsuite", 5); sandbox.max_in_flight("netsuite")
    sandbox.records("netsuite", "salesOrder"); sandbox.reset(); sandbox.stop()
"""

from __future__ import annotations

from typing import Any

from local.sandbox.core import Fault, Faults, Request, Response
from local.sandbox.server import Sandbox

VENDORS = ("salesforce", "hubspot", "stripe", "chargebee", "zuora", "gainsight", "totango", "netsuite",
           "dynamics", "sap", "oracle")


def vendors() -> list[Any]:
    """One fresh fake of each vendor API (imported here: the fakes load their contracts on import)."""
    from local.sandbox import (
        chargebee,
        dynamics,
        gainsight,
        hubspot,
        netsuite,
        oracle,
        salesforce,
        sap,
        stripe,
        totango,
        zuora,
    )

    return [salesforce.Salesforce(), hubspot.HubSpot(), stripe.Stripe(), chargebee.Chargebee(), zuora.Zuora(),
            gainsight.Gainsight(), totango.Totango(), netsuite.NetSuite(), dynamics.Dynamics(), sap.Sap(),
            oracle.Oracle()]


def start(host: str = "127.0.0.1", port: int = 0) -> Sandbox:
    return Sandbox(vendors(), host, port).start()


def environment(sandbox: Sandbox, secret_prefix: str = "erphub/local/connectors/") -> dict[str, str]:  # noqa: S107
    """The connector environment variables that point every connector at this sandbox."""
    env: dict[str, str] = {}
    for name in VENDORS:
        env[f"{name.upper()}_BASE_URL"] = sandbox.base_url(name)
        env[f"{name.upper()}_SECRET_NAME"] = f"{secret_prefix}{name}"
    return env


def secrets(sandbox: Sandbox, secret_prefix: str = "erphub/local/connectors/") -> dict[str, dict[str, Any]]:  # noqa: S107
    """The connector secrets (name -> JSON value) holding the credentials this sandbox accepts."""
    return {f"{secret_prefix}{name}": sandbox.credentials(name) for name in VENDORS}


__all__ = ["VENDORS", "Fault", "Faults", "Request", "Response", "Sandbox", "environment", "secrets", "start", "vendors"]
