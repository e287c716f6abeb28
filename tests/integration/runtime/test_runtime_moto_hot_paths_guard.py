"""local/moto_hot_paths.py: the embedded moto server still finds each request's service (now remembered per host)
and EventBridge still shapes events for its targets (now with compiled JSONPath expressions remembered); and the
moto internals it wraps are still the ones it was written for."""

from __future__ import annotations

import json
import uuid

import pytest

from local import moto_hot_paths

pytestmark = pytest.mark.integration


def test_the_wrapped_moto_internals_are_still_what_the_module_expects(stack):
    moto_hot_paths.check_compatible()
    assert moto_hot_paths.installed()
    moto_hot_paths.install()  # idempotent: wraps once
    lookup = moto_hot_paths.dispatcher().get_backend_for_host
    assert lookup.__erphub_memoized__.__qualname__ == "DomainDispatcherApplication.get_backend_for_host"


def test_the_host_lookup_answers_as_moto_does_and_remembers_only_known_hosts(stack):
    cls = moto_hot_paths.dispatcher()
    original = cls.get_backend_for_host.__erphub_memoized__
    memoized = moto_hot_paths._memoized_host_lookup(original)
    app = cls.__new__(cls)
    app.backend_url_patterns = __import__("moto.backend_index", fromlist=["x"]).backend_url_patterns
    for host in ("dynamodb", "sqs.us-east-1.amazonaws.com", "events.us-east-1.amazonaws.com", "moto_api", None):
        assert memoized(app, host) == original(app, host)
        assert memoized(app, host) == original(app, host)  # remembered: the same answer
    assert memoized(app, "nothing.example") is None


def test_jsonpath_expressions_are_compiled_once_and_find_as_before(stack):
    module = moto_hot_paths.jsonpath_ext()
    original = module.parse.__erphub_memoized__
    assert module.parse("$.detail") is module.parse("$.detail")
    document = {"detail": {"items": [{"n": 1}, {"n": 2}]}}
    for path in ("$.detail", "$.detail.items[1].n", "$.detail.items[?(@.n > 1)].n"):
        assert [m.value for m in module.parse(path).find(document)] == [m.value for m in original(path).find(document)]


def test_a_rule_still_delivers_the_event_shape_eventbridge_documents(stack):
    events, sqs = stack.client("events"), stack.client("sqs")
    name = f"hot-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name=name)
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"source": ["guard"]}))
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "q", "Arn": arn}])
    for n in range(2):  # the second event uses the remembered expressions
        events.put_events(Entries=[{"EventBusName": name, "Source": "guard", "DetailType": "t",
                                    "Detail": json.dumps({"n": n})}])
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(b["detail"]["n"] for b in bodies) == [0, 1]
    assert {"id", "time", "version", "detail-type", "source", "region", "resources"} <= set(bodies[0])


def test_a_response_class_s_action_methods_are_found_once_and_are_moto_s(stack):
    from moto.dynamodb.responses import DynamoHandler

    names = moto_hot_paths.responses().method_names_from_class
    original = getattr(names, moto_hot_paths.MARK)
    assert original.__qualname__ == "method_names_from_class"
    assert names(DynamoHandler) is names(DynamoHandler)
    assert names(DynamoHandler) == original(DynamoHandler) and "put_item" in names(DynamoHandler)
