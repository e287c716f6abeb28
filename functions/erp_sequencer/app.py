"""ERP posting intake queue -> ERP posting FIFO queue (message group = customer), with partial batch failures."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import sequencing
from erphub.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)


def forward(record: SQSRecord) -> None:
    sequencing.sequence(json.loads(record.body))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=forward, processor=processor, context=context)
