"""Business configuration: the committed file validates, the template carries it verbatim, a bad edit fails
loudly and whole, and functions read it from the SSM parameter (cached) the way they do in Lambda."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from erphub import aws, business_config
from erphub.business_config import BusinessConfigInvalid
from local.cfn_yaml import load_template
from tools import business_config as config_file

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]
GOOD = json.loads((ROOT / "config" / "business.json").read_text())


def edited(**changes):
    return json.dumps({**GOOD, **changes})


def test_the_committed_file_validates():
    config = business_config.parse((ROOT / "config" / "business.json").read_text())
    assert "PLATFORM-ENT" in config.product_catalog
    assert config.subsidiary_currencies["DE01"] == "EUR"
    assert config.approval.threshold == Decimal("500000")


def test_the_template_holds_the_committed_file_verbatim():
    # the drift test: `make config` copies the file into BusinessConfigParameter's Value
    value = load_template(ROOT / "template.yaml")["Resources"]["BusinessConfigParameter"]["Properties"]["Value"]
    assert value == (ROOT / "config" / "business.json").read_text()
    assert config_file.main(["--check"]) == 0


def test_make_config_rewrites_only_the_block(tmp_path):
    # Given a copy of the template and an edited file with one SKU more
    template, source = tmp_path / "template.yaml", tmp_path / "business.json"
    original = (ROOT / "template.yaml").read_text()
    template.write_text(original)
    source.write_text(json.dumps({**GOOD, "product_catalog": [*GOOD["product_catalog"], "NEW-SKU"]}, indent=2) + "\n")
    # When the template is regenerated
    assert config_file.write_template(template, source) is True
    # Then YAML reads the new document there, and nothing else of the template changed
    loaded = load_template(template)
    assert loaded["Resources"]["BusinessConfigParameter"]["Properties"]["Value"] == source.read_text()
    assert "NEW-SKU" in business_config.parse(config_file.template_value(template)).product_catalog
    assert set(loaded["Resources"]) == set(load_template(ROOT / "template.yaml")["Resources"])
    assert config_file.write_template(template, source) is False


@pytest.mark.parametrize(("document", "problem"), [
    (edited(product_catalog=["SSO", "SSO"]), "SKUs listed twice"),
    (edited(product_catalog=[" SSO"]), "non-blank without surrounding spaces"),
    (edited(subsidiary_currencies={"DE01": "eur"}), "ISO 4217"),
    (edited(approval={**GOOD["approval"], "timeout_seconds": 600, "heartbeat_seconds": 999999}),
     "exceeds timeout_seconds"),
    (edited(approval={**GOOD["approval"], "threshold": "-1"}), "approval.threshold"),
    (edited(compare_price=True), "compare_price: Extra inputs are not permitted"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "approval"}), "approval: Field required"),
    ('{"product_catalog": [', "Invalid JSON"),
])
def test_a_bad_document_is_refused_with_what_is_wrong(document, problem):
    with pytest.raises(BusinessConfigInvalid, match="business configuration is invalid") as refused:
        business_config.parse(document)
    assert problem in str(refused.value)


def test_every_problem_is_named_at_once():
    document = edited(product_catalog=["SSO", "SSO"], subsidiary_currencies={"DE01": "eur"})
    with pytest.raises(BusinessConfigInvalid) as refused:
        business_config.parse(document)
    assert "SKUs listed twice" in str(refused.value) and "ISO 4217" in str(refused.value)


def test_publish_refuses_a_bad_file_before_touching_aws(tmp_path, capsys):
    source = tmp_path / "business.json"
    source.write_text(edited(subsidiary_currencies={"DE01": "euro"}))
    # no AWS credentials or endpoint are needed: validation comes first and stops it
    assert config_file.main(["publish", "--stage", "prod", "--file", str(source)]) == 2
    assert "ISO 4217" in capsys.readouterr().err


@pytest.fixture
def ssm(hub_settings):
    from moto import mock_aws

    with mock_aws():
        hub_settings(BUSINESS_CONFIG_PARAMETER="/erphub/test/business-config")  # clients made inside the mock
        client = aws.client("ssm")
        client.put_parameter(Name="/erphub/test/business-config", Value=edited(), Type="String")
        yield client


def publish(ssm, document):
    ssm.put_parameter(Name="/erphub/test/business-config", Value=document, Type="String", Overwrite=True)


def test_functions_read_the_parameter_and_keep_it_for_max_age(ssm):
    assert business_config.current().product_catalog == tuple(GOOD["product_catalog"])
    # an edit published without a deploy is not read again within MAX_AGE_SECONDS (one SSM call per minute)
    publish(ssm, edited(product_catalog=["SSO"]))
    assert business_config.current().product_catalog == tuple(GOOD["product_catalog"])


def test_an_edit_published_without_a_deploy_is_read_once_the_cache_age_passed(ssm, monkeypatch):
    monkeypatch.setattr(business_config, "MAX_AGE_SECONDS", 0)  # every read is past the cache age
    assert business_config.current().product_catalog == tuple(GOOD["product_catalog"])
    publish(ssm, edited(product_catalog=["SSO"]))
    assert business_config.current().product_catalog == ("SSO",)


def test_a_bad_published_value_fails_every_read_and_applies_nothing(ssm, monkeypatch):
    monkeypatch.setattr(business_config, "MAX_AGE_SECONDS", 0)
    publish(ssm, edited(product_catalog=["SSO", "SSO"], approval={**GOOD["approval"], "threshold": "1"}))
    with pytest.raises(BusinessConfigInvalid, match="SKUs listed twice"):
        business_config.current()


def test_a_missing_parameter_or_name_is_a_clear_error(ssm, hub_settings):
    hub_settings(BUSINESS_CONFIG_PARAMETER="/erphub/test/nothing-here")
    with pytest.raises(BusinessConfigInvalid, match="/erphub/test/nothing-here cannot be read"):
        business_config.current()
    hub_settings(BUSINESS_CONFIG_PARAMETER="")
    with pytest.raises(BusinessConfigInvalid, match="BUSINESS_CONFIG_PARAMETER is not set"):
        business_config.current()


def test_publish_puts_the_validated_file_into_the_stage_parameter(tmp_path, monkeypatch, capsys):
    from moto import mock_aws

    source = tmp_path / "business.json"
    source.write_text(edited(product_catalog=["SSO", "NEW-SKU"]))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        import boto3

        assert config_file.main(["publish", "--stage", "prod", "--file", str(source)]) == 0
        assert config_file.main(["publish", "--stage", "prod", "--file", str(source)]) == 0
        stored = boto3.client("ssm").get_parameter(Name="/erphub/prod/business-config")["Parameter"]
    assert stored["Value"] == source.read_text() and stored["Version"] == 2
    assert "(version 2)" in capsys.readouterr().out
