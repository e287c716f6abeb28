"""The template loader refuses what CloudFormation would not read the same way: a key given twice."""

import pytest
import yaml

from local.cfn_yaml import load_template

pytestmark = pytest.mark.unit


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    # Given a template where a merge left two Conditions sections
    path = tmp_path / "template.yaml"
    path.write_text("Conditions:\n  A: !Equals [a, a]\nConditions:\n  B: !Equals [b, b]\nResources: {}\n")
    # When it is loaded, then the second one is refused, not silently kept in place of the first
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'Conditions'") as refused:
        load_template(path)
    assert refused.value.problem_mark.line == 2


def test_the_template_has_no_key_twice():
    from pathlib import Path

    template = load_template(Path(__file__).resolve().parents[3] / "template.yaml")
    assert {"CreateApiGatewayAccount", "HasErpBudget", "CapIngestConcurrency"} <= set(template["Conditions"])
