"""billing.usage.recorded (billing webhooks, e.g. Zuora's UsageRecordCreated) -> the usage totals.

Each bus event carries one usage record; it is counted once by its id, so a redelivered message changes nothing.
A refused record (late, unknown subscription or meter) is an answer, not a failure: it is kept and logged.
"""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import consuming
from erphub.observability import logger, metrics
from erphub.usage import events


def aggregate(record: SQSRecord) -> dict:
    return events.count_bus_event(json.loads(record.body))


consumer = consuming.Consumer("usage_aggregator", aggregate, BatchProcessor(event_type=EventType.SQS))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return consumer(event, context)
