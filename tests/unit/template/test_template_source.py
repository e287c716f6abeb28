"""template.yaml is generated from template.source.yaml: the committed one is what the source makes, the loops
write each row's block, and malformed loop markup is refused with its line."""


import pytest

from local.cfn_yaml import load_template
from tools import generated
from tools.template_source import HEADER, SOURCE, TEMPLATE, SourceError, render, render_lines

pytestmark = pytest.mark.unit

LOOP = """#@# a note for readers of the source
Resources:
  #@ for Queue, Timeout in:
  #@   - [Activation, 180]
  #@   - [RenewalRisk, 270]
  #@ do
  ${Queue}Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub erphub-${Stage}-${Queue}
      VisibilityTimeout: ${Timeout}
  #@ end
  Other:
    Type: AWS::SNS::Topic
"""


def test_the_committed_template_is_what_the_source_makes():
    # the drift test: edit template.source.yaml, then `make template`
    assert generated.drift({TEMPLATE: render(SOURCE.read_text())}) == []


def test_a_loop_writes_its_block_once_per_row_and_leaves_other_substitutions(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(render(LOOP))
    resources = load_template(path)["Resources"]
    assert list(resources) == ["ActivationQueue", "RenewalRiskQueue", "Other"]
    assert resources["RenewalRiskQueue"]["Properties"] == {
        "QueueName": {"Fn::Sub": "erphub-${Stage}-RenewalRisk"}, "VisibilityTimeout": 270}
    assert path.read_text().startswith(HEADER + "Resources:")


@pytest.mark.parametrize(("source", "problem"), [
    (LOOP.replace("  #@ end\n", ""), "has no `#@ end`"),
    (LOOP.replace("[RenewalRisk, 270]", "[RenewalRisk]"), "each row of the loop needs 2 values"),
    (LOOP.replace("  #@ do\n", "  ${Queue}Queue:\n  #@ do\n"), "a loop's rows are `#@` lines"),
    (LOOP + "  #@ end\n", "outside a loop"),
    (LOOP.replace("  #@ end\n", "  #@ for X in:\n  #@ end\n"), "loops do not nest"),
])
def test_malformed_loop_markup_is_refused_with_its_line(source, problem):
    with pytest.raises(SourceError, match=problem):
        render(source)


def test_the_source_states_each_repeated_block_once():
    # the queues, DLQs, DLQ alarms, state machines, function log groups and secrets are loops
    source = SOURCE.read_text()
    assert source.count("Type: AWS::Serverless::StateMachine") == 1
    # the loops of the DLQ alarms, the workflows' failed/timed-out alarms, the API alarms, the metric alarms
    assert source.count("Type: AWS::CloudWatch::Alarm") == 4
    assert source.count("Type: AWS::Logs::LogGroup") == 3  # functions' loop, API access, workflows
    assert source.count("Type: AWS::SecretsManager::Secret") == 2
    resources = load_template(TEMPLATE)["Resources"]
    dlqs = [lid for lid, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and lid.endswith("DLQ")]
    alarms = [lid for lid, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(dlqs) >= 13 and {f"{dlq}Alarm" for dlq in dlqs} <= set(alarms)


SNIPPET = """#@ define hub-key
#@# what every hub table is keyed by
- AttributeName: pk
  AttributeType: S
#@ end
Resources:
  #@ for Name in:
  #@   - [Identity]
  #@   - [Usage]
  #@ do
  ${Name}Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        #@ use hub-key
        - AttributeName: ${Name}
          AttributeType: S
  #@ end
"""


def test_a_snippet_is_written_where_it_is_used_at_that_lines_indentation(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(render(SNIPPET))
    resources = load_template(path)["Resources"]
    assert [r["Properties"]["AttributeDefinitions"] for r in resources.values()] == [
        [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": name, "AttributeType": "S"}]
        for name in ("Identity", "Usage")]
    assert "define" not in path.read_text() and "#@" not in path.read_text()


def test_each_generated_line_knows_the_source_line_that_wrote_it():
    lines = render_lines(SNIPPET)
    assert lines[0] == (None, HEADER)
    # both tables' `pk` line comes from the snippet's line 3; their own attribute from the loop body's line 16
    assert [origin for origin, text in lines if "AttributeName" in text] == [3, 16, 3, 16]


@pytest.mark.parametrize(("source", "problem"), [
    (SNIPPET.replace("#@ use hub-key", "#@ use hub-keys"), "line 15: no snippet `hub-keys`"),
    (SNIPPET.replace("        #@ use hub-key\n", ""), "never used: hub-key"),
    (SNIPPET + "#@ define tail\n- x\n", "line 19: the snippet has no `#@ end`"),
    (SNIPPET.replace("#@ define hub-key\n", "#@ define hub-key\n#@ use other\n"), "holds no loop, snippet"),
    (SNIPPET + "#@ define hub-key\n- x\n#@ end\n", "defined twice or empty"),
])
def test_malformed_snippet_markup_is_refused_with_its_line(source, problem):
    with pytest.raises(SourceError, match=problem):
        render(source)
