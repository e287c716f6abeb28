"""TEST ONLY layer: handlers report what they did on the output queue, through AWS_ENDPOINT_URL."""

import json
import os

import boto3


def report(payload: dict) -> None:
    sqs = boto3.session.Session().client("sqs")  # endpoint, region and credentials from the function's environment
    sqs.send_message(QueueUrl=os.environ["OUTPUT_QUEUE_URL"], MessageBody=json.dumps(payload))
