"""Renewal-risk signal -> CRM account plan (risk, health, plan) and a task for the account owner.

One of three independent consumers of success.renewal_risk.changed, each on its own queue with a DLQ.
"""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import consuming, signals
from erphub.observability import logger, metrics

# one CRM adapter call may take up to the adapter's timeout: never start one with less time than that
ADAPTER_CALL_RESERVE_SECONDS = 35


def react(record: SQSRecord) -> dict:
    return signals.renewal_risk("crm", json.loads(record.body))


consumer = consuming.Consumer("renewal_risk_crm", react, BatchProcessor(event_type=EventType.SQS),
                              time_reserve_seconds=ADAPTER_CALL_RESERVE_SECONDS)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return consumer(event, context)
