"""A DLQ message is only explainable if its consumer recorded why it failed: every function the template wires to
an SQS queue must process its batches through erphub.consuming.Consumer (failure record, reason attributes on what
it dead-letters, the dead_letter exception)."""

from __future__ import annotations

import ast
from pathlib import Path

from local.template import Template

ROOT = Path(__file__).resolve().parents[3]


def sqs_consumers() -> dict[str, Path]:
    template = Template(ROOT / "template.yaml")
    found = {}
    functions = {lid: r for lid, r in template.sam.items() if r.get("Type") == "AWS::Serverless::Function"}
    for logical_id, resource in functions.items():
        events = resource.get("Properties", {}).get("Events", {}) or {}
        if any(e.get("Type") == "SQS" for e in events.values()):
            found[logical_id] = ROOT / resource["Properties"]["CodeUri"] / "app.py"
    return found


LAYER = ROOT / "layers" / "hub" / "python"


def uses_consumer(handler: Path) -> bool:
    """The handler builds a consuming.Consumer, or is one line over a layer module's handler factory that does."""
    tree = ast.parse(handler.read_text())
    delegates = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
                 and any(alias.name == "lambda_handler_for" for alias in node.names)]
    if delegates:
        return all(uses_consumer(LAYER / (module.replace(".", "/") + ".py")) for module in delegates)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Consumer" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "consuming":
            return True
    return False


def test_every_sqs_consumer_of_the_template_records_why_a_message_failed():
    consumers = sqs_consumers()
    assert len(consumers) >= 6  # workflow starter, sequencer, poster, three renewal-risk reactions
    assert [lid for lid, handler in consumers.items() if not uses_consumer(handler)] == []
