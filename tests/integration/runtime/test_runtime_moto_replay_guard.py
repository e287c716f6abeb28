"""local/moto_replay.py replaces a moto-internal method: fail loudly if moto changes it, and check that a replay
then does what AWS documents (only the window's events, only to the FilterArns rules)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from local import moto_replay

pytestmark = pytest.mark.integration


def test_the_replaced_moto_method_is_still_what_the_module_expects():
    moto_replay.check_compatible()


def test_a_replay_honours_its_window_and_its_rules():
    moto_replay.install()
    with mock_aws():
        events, sqs = boto3.client("events", "us-east-1"), boto3.client("sqs", "us-east-1")
        bus = events.create_event_bus(Name="bus")["EventBusArn"]
        archive = events.create_archive(ArchiveName="all", EventSourceArn=bus,
                                        EventPattern=json.dumps({"source": ["t"]}))["ArchiveArn"]
        queues = {}
        for name in ("a", "b"):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            rule = events.put_rule(Name=name, EventBusName="bus", EventPattern=json.dumps({"source": ["t"]}))
            events.put_targets(Rule=name, EventBusName="bus", Targets=[{"Id": name, "Arn": arn}])
            queues[name] = (url, rule["RuleArn"])
        start = datetime(2024, 6, 1, tzinfo=UTC)
        for minutes, label in ((5, "inside"), (-60, "before"), (120, "after")):
            events.put_events(Entries=[{"EventBusName": "bus", "Source": "t", "DetailType": "x",
                                        "Detail": json.dumps({"n": label}),
                                        "Time": start + timedelta(minutes=minutes)}])
        for url, _ in queues.values():
            sqs.purge_queue(QueueUrl=url)
        events.start_replay(ReplayName="r", EventSourceArn=archive, EventStartTime=start,
                            EventEndTime=start + timedelta(hours=1),
                            Destination={"Arn": bus, "FilterArns": [queues["a"][1]]})
        got = {name: [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
                      .get("Messages", [])] for name, (url, _) in queues.items()}
    assert [m["detail"]["n"] for m in got["a"]] == ["inside"] and got["a"][0]["replay-name"] == "r"
    assert got["b"] == []
