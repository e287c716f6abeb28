"""TEST ONLY layer: handlers report what they did on the output queue, through AWS_ENDPOINT_URL.

A function's environment is read through erphub.settings (the local stack gives each function its own
settings; os.environ is the process's, shared by every function)."""

import json

from erphub import aws
from erphub.settings import get_settings


def env(name: str) -> str:
    return get_settings().environment[name]


def sqs():
    # endpoint, region and credentials come from the function's environment, as in Lambda
    return aws.client("sqs")


def report(payload: dict) -> None:
    sqs().send_message(QueueUrl=env("OUTPUT_QUEUE_URL"), MessageBody=json.dumps(payload))
