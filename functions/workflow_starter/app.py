"""Activation/amendment/renewal/cancellation queues -> StartExecution, with partial batch failures."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.observability import logger, metrics, tracer
from erphub.workflows import starter

processor = BatchProcessor(event_type=EventType.SQS)


def start(record: SQSRecord) -> str:
    return starter.start_for(json.loads(record.body))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=start, processor=processor, context=context)
