"""Activation/amendment/renewal/cancellation queues -> StartExecution, with partial batch failures."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import consuming
from erphub.observability import logger, metrics, tracer
from erphub.workflows import starter


def start(record: SQSRecord) -> str:
    return starter.start_for(json.loads(record.body))


consumer = consuming.Consumer("workflow_start", start, BatchProcessor(event_type=EventType.SQS))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return consumer(event, context)
