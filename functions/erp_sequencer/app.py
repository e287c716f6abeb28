"""ERP posting intake queue -> ERP posting FIFO queue (message group = customer), with partial batch failures."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import consuming, sequencing
from erphub.observability import logger, metrics


def forward(record: SQSRecord) -> None:
    sequencing.sequence(json.loads(record.body))


consumer = consuming.Consumer("erp_sequencing", forward, BatchProcessor(event_type=EventType.SQS))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return consumer(event, context)
