"""The defaults deploy on a fresh account: samconfig.toml answers every parameter, no default points a connector at a
placeholder host, and API Gateway's account-wide logging role is created only when asked for."""

import tomllib
from pathlib import Path

import pytest

from local.cfn_yaml import load_template
from local.template import parse_overrides

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))


def _default_overrides() -> dict[str, str]:
    return parse_overrides(SAMCONFIG["default"]["deploy"]["parameters"]["parameter_overrides"])


def test_samconfig_default_answers_exactly_the_template_parameters():
    # Given the default environment `sam deploy` uses
    overrides = _default_overrides()
    # Then it names every parameter of the template, and none the template does not have
    assert set(overrides) == set(TEMPLATE["Parameters"])


def test_samconfig_default_values_are_allowed_by_the_template():
    for name, value in _default_overrides().items():
        spec = TEMPLATE["Parameters"][name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], name
        if "MinValue" in spec:
            assert float(value) >= float(spec["MinValue"]), name


@pytest.mark.parametrize("name", ["CrmBaseUrl", "BillingBaseUrl", "SuccessBaseUrl", "ErpBaseUrl"])
def test_vendor_urls_default_to_empty_never_to_a_placeholder_host(name):
    assert TEMPLATE["Parameters"][name]["Default"] == ""
    assert _default_overrides()[name] == ""


def test_the_not_yet_configured_output_names_each_empty_url():
    output = TEMPLATE["Outputs"]["NotYetConfigured"]["Value"]["Fn::Sub"]
    pieces = output[1]
    assert {k: v["Fn::If"][0] for k, v in pieces.items()} == {
        "Crm": "CrmUrlMissing", "Billing": "BillingUrlMissing", "Success": "SuccessUrlMissing", "Erp": "ErpUrlMissing"}


def test_api_gateway_account_role_is_conditional_and_outlives_the_stack():
    resources = TEMPLATE["Resources"]
    account, role = resources["ApiGatewayAccount"], resources["ApiGatewayCloudWatchRole"]
    assert account["Condition"] == role["Condition"] == "CreateApiGatewayAccount"
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    # the stage that logs waits for the account setting through the log group it writes to
    tags = resources["ApiAccessLogGroup"]["Properties"]["Tags"]["Fn::If"]
    assert tags[0] == "CreateApiGatewayAccount" and tags[1][0]["Value"] == {"Ref": "ApiGatewayAccount"}
    assert resources["WebhookApi"]["Properties"]["AccessLogSetting"]["DestinationArn"] == {
        "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    # and no resource DependsOn the conditional ones (that would fail the stack when the condition is false)
    for lid, resource in resources.items():
        depends = resource.get("DependsOn", [])
        assert not {"ApiGatewayAccount", "ApiGatewayCloudWatchRole"} & set(
            [depends] if isinstance(depends, str) else depends), lid
