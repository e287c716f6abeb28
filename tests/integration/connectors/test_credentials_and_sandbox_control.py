"""Connector configuration from the environment, credentials from Secrets Manager (cached), and the sandbox's
/_sandbox/ control endpoint that another process (the demo CLI, e2e tests) uses."""

from __future__ import annotations

import json

import pytest
import requests

from erphub.connectors.credentials import ConnectorConfig, load_credentials
from erphub.connectors.interfaces import BillingSystem, CrmSystem, ErpCustomer, ErpSystem, SuccessSystem
from erphub.connectors.netsuite import NetSuiteErp
from erphub.errors import Permanent, RateLimited

pytestmark = pytest.mark.integration


def test_config_reads_base_url_secret_name_and_timeouts():
    config = ConnectorConfig.from_environ("netsuite", {
        "NETSUITE_BASE_URL": "https://1234567.suitetalk.api.netsuite.com", "NETSUITE_SECRET_NAME": "erphub/ns",
        "NETSUITE_TIMEOUT_SECONDS": "7", "CONNECTOR_MAX_ATTEMPTS": "2"})
    assert (config.base_url, config.secret_name, config.read_timeout_seconds, config.max_attempts) == (
        "https://1234567.suitetalk.api.netsuite.com", "erphub/ns", 7.0, 2)
    with pytest.raises(Permanent, match="STRIPE_BASE_URL"):
        ConnectorConfig.from_environ("stripe", {})


def test_credentials_come_from_secrets_manager_and_are_cached(sandbox, secrets):
    config = ConnectorConfig.from_environ("netsuite")
    assert load_credentials(config) == sandbox.credentials("netsuite")
    secrets.put_secret_value(SecretId=config.secret_name, SecretString=json.dumps({"account_id": "rotated"}))
    assert load_credentials(config)["account_id"] != "rotated", "served from the cache within max age"
    fresh = config.model_copy(update={"secrets_max_age_seconds": 0})
    assert load_credentials(fresh)["account_id"] == "rotated"


def test_a_missing_secret_is_permanent(secrets):
    config = ConnectorConfig(system="hubspot", base_url="http://x", secret_name="erphub/none")
    with pytest.raises(Permanent, match="cannot read secret"):
        load_credentials(config)


def test_connectors_satisfy_their_interfaces():
    from erphub.connectors.chargebee import ChargebeeBilling
    from erphub.connectors.dynamics import DynamicsErp
    from erphub.connectors.gainsight import GainsightSuccess
    from erphub.connectors.hubspot import HubSpotCrm
    from erphub.connectors.oracle import OracleErp
    from erphub.connectors.salesforce import SalesforceCrm
    from erphub.connectors.sap import SapErp
    from erphub.connectors.stripe import StripeBilling

    config = ConnectorConfig(system="x", base_url="http://x")
    for cls, interface in [(SalesforceCrm, CrmSystem), (HubSpotCrm, CrmSystem), (StripeBilling, BillingSystem),
                           (ChargebeeBilling, BillingSystem), (GainsightSuccess, SuccessSystem),
                           (NetSuiteErp, ErpSystem), (DynamicsErp, ErpSystem), (SapErp, ErpSystem),
                           (OracleErp, ErpSystem)]:
        assert isinstance(cls(config, credentials={}), interface), cls.__name__


def test_the_control_endpoint_injects_faults_limits_and_reads_records(sandbox, connect):
    control = f"{sandbox.url}/_sandbox"
    erp = connect(NetSuiteErp, max_attempts=1)
    assert requests.post(f"{control}/faults", json={"vendor": "netsuite", "operation": "customer.upsert",
                                                    "kind": "429", "retry_after": 9}, timeout=2).status_code == 201
    with pytest.raises(RateLimited):
        erp.upsert_customer(ErpCustomer(external_id="A", name="A"))
    erp.upsert_customer(ErpCustomer(external_id="A", name="A"))
    records = requests.get(f"{control}/records/netsuite/customer", timeout=2).json()
    assert [r["externalId"] for r in records] == ["A"]
    requests.post(f"{control}/limits", json={"vendor": "netsuite", "n": 0}, timeout=2)
    with pytest.raises(RateLimited, match="CONCURRENCY_LIMIT_EXCEEDED"):
        erp.upsert_customer(ErpCustomer(external_id="B", name="B"))
    assert requests.get(f"{control}/stats", timeout=2).json()["refused"] == {"netsuite": 1}
    assert requests.get(f"{control}/credentials/netsuite", timeout=2).json()["base_url"] == sandbox.base_url("netsuite")
    assert requests.post(f"{control}/reset", timeout=2).status_code == 204
    assert sandbox.records("netsuite", "customer") == []
