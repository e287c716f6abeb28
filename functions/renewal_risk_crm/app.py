"""Renewal-risk signal -> CRM account plan (risk, health, plan) and a task for the account owner.

One of three independent consumers of success.renewal_risk.changed, each on its own queue with a DLQ.
"""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import signals
from erphub.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)


def react(record: SQSRecord) -> dict:
    return signals.renewal_risk("crm", json.loads(record.body))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=react, processor=processor, context=context)
