"""Template loading (through the SAM transform), intrinsics, filters and schedule expressions (no AWS needed)."""

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.filters import matches_any
from local.sam_transform import local_path, transform
from local.schedules import seconds_until_next
from local.template import Template, parse_overrides

TEMPLATE = Path(__file__).resolve().parent / "app" / "template.yaml"


def test_globals_parameters_samconfig_conditions_and_mappings():
    template = Template(TEMPLATE, parameter_overrides={"Stage": "prod"})
    assert template.stack_name == "runtime-test" and template.parameters["Greeting"] == "hi-from-samconfig"
    api = template.resources["ApiFunction"]["Properties"]
    [layer] = api["Layers"]  # the transform names a layer version <LogicalId><hash of its content>
    assert api["Runtime"] == "python3.12" and layer["Ref"].startswith("ProbeLayer")
    assert local_path(template.resources[layer["Ref"]]["Properties"]["Content"]) == TEMPLATE.parent / "layers" / "probe"
    assert set(api["Environment"]["Variables"]) == {"STAGE", "OUTPUT_QUEUE_URL", "GREETING", "WORK_QUEUE_URL"}
    assert "ProdOnlyQueue" in template.active()
    assert template.props("EnvProbeAFunction")["Environment"]["Variables"]["PROBE_VALUE"] == "alpha-p"
    assert template.props("EnvProbeBFunction")["Environment"]["Variables"]["PROBE_VALUE"] == "never"
    order = list(template.active())
    assert order.index("WorkDLQ") < order.index("WorkQueue") < order.index("QueueWorkerFunction")


def test_the_sam_events_are_the_cloudformation_resources_the_transform_generates():
    # Given the SAM template as written, When the local stack reads it (through samtranslator)
    template = Template(TEMPLATE)
    resources = template.resources
    # Then each function event is the resource AWS creates for it, which the local stack wires
    assert resources["QueueWorkerFunctionWork"]["Type"] == "AWS::Lambda::EventSourceMapping"
    assert resources["QueueWorkerFunctionWork"]["Properties"]["FunctionName"] == {"Ref": "QueueWorkerFunction"}
    tick = resources["TickerFunctionEveryMinute"]["Properties"]
    assert tick["ScheduleExpression"] == "rate(1 minute)" and tick["Targets"][0]["Input"] == '{"from": "schedule"}'
    # And the code of each function is its local directory
    code = resources["QueueWorkerFunction"]["Properties"]["Code"]
    assert local_path(code) == TEMPLATE.parent / "functions" / "queue_worker"
    assert "Events" in template.sam["ApiFunction"]["Properties"]  # the SAM view the gateway routes from


def test_the_kept_transform_answers_only_for_the_same_template():
    # Given the transform of the template, made once and kept
    first = Template(TEMPLATE)
    # When the same template is read again, and a changed one (one more queue) is transformed
    again = Template(TEMPLATE)
    changed = copy.deepcopy(first.doc)
    changed["Resources"]["AddedQueue"] = {"Type": "AWS::SQS::Queue"}
    transformed = transform(changed, first.parameters, first.region, first.root)
    # Then the same template gets the same transform, and the changed one its own (not the kept one)
    assert again.cfn == first.cfn
    assert transformed["Resources"].keys() - first.cfn["Resources"].keys() == {"AddedQueue"}


HUB_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def test_the_templates_rules_refuse_a_parameter_before_anything_is_created():
    # Given the hub's template, whose Rules refuse an ERP budget of 1 (SQS MaximumConcurrency is 2 at the least)
    # When the local stack reads it with 1, Then it refuses with the rule's description, as CloudFormation would
    with pytest.raises(ValueError, match="ErpBudgetIsNoneOrAtLeastTwo: ErpConcurrency must be 0"):
        Template(HUB_TEMPLATE, parameter_overrides={"ErpConcurrency": "1"})
    # And 0 (no budget) and 2 pass
    for budget in ("0", "2"):
        template = Template(HUB_TEMPLATE, parameter_overrides={"ErpConcurrency": budget})
        assert template.parameters["ErpConcurrency"] == budget


def test_sub_with_variables_and_escapes():
    template = Template(TEMPLATE)
    assert template.resolve({"Fn::Sub": ["${A}-${AWS::Region}-${!Literal}", {"A": "x"}]}) == "x-us-east-1-${Literal}"
    assert template.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}) == "b"
    assert parse_overrides('A=1 B="two words"') == {"A": "1", "B": "two words"}


@pytest.mark.parametrize(("pattern", "record", "kept"), [
    ('{"a": ["x"]}', {"a": "x"}, True),
    ('{"a": [{"prefix": "it"}]}', {"a": "item"}, True),
    ('{"a": [{"anything-but": ["x"]}]}', {"a": "x"}, False),
    ('{"a": [{"exists": false}]}', {}, True),
    ('{"a": [{"numeric": [">", 1, "<=", 5]}]}', {"a": "5"}, True),
    ('{"a": {"b": ["y"]}}', {"a": {"b": "z"}}, False),
])
def test_filter_criteria(pattern, record, kept):
    assert matches_any({"Filters": [{"Pattern": pattern}]}, record) is kept


def test_schedule_expressions():
    now = datetime(2026, 11, 27, 23, 50, 10, tzinfo=UTC)  # a Friday
    assert seconds_until_next("rate(5 minutes)", now) == 300
    assert seconds_until_next("cron(0/15 * * * ? *)", now) == 590
    assert seconds_until_next("cron(0 9 ? * MON-FRI *)", now) == (2 * 86400 + 9 * 3600 + 9 * 60 + 50)
