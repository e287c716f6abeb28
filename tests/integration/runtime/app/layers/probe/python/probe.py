"""TEST ONLY layer: handlers report what they did on the output queue, through AWS_ENDPOINT_URL."""

import functools
import json
import os

import boto3


@functools.cache
def _sqs(endpoint: str):
    # endpoint, region and credentials come from the function's environment, as in Lambda; one client per
    # endpoint because clients are made once per process, as handlers do
    return boto3.session.Session().client("sqs")


def sqs():
    return _sqs(os.environ["AWS_ENDPOINT_URL"])


def report(payload: dict) -> None:
    sqs().send_message(QueueUrl=os.environ["OUTPUT_QUEUE_URL"], MessageBody=json.dumps(payload))
