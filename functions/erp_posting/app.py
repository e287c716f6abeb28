"""ERP posting FIFO queue -> the ERP adapter: invoices before their payments, one customer's postings in order.

Within a batch invoices go first; a failed message holds the rest of its customer's group (reported failed
too), so nothing overtakes it, while other customers' postings in the batch go on; a payment whose invoice
is not posted yet fails and retries. A poison message is dead-lettered after a bounded number of receives
(erphub.consuming), so it holds its customer for minutes, not for the queue's retention.
"""

import json

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import consuming, erp_posting
from erphub.observability import logger, metrics

# one ERP adapter call may take up to the adapter's 60 s timeout: never start one with less time than that
ADAPTER_CALL_RESERVE_SECONDS = 65


def post(record: SQSRecord) -> dict:
    return erp_posting.post(json.loads(record.body))


consumer = consuming.Consumer("erp_posting", post, SqsFifoPartialProcessor(skip_group_on_error=True),
                              time_reserve_seconds=ADAPTER_CALL_RESERVE_SECONDS)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    event = {**event, "Records": erp_posting.invoices_first(event.get("Records", []))}
    return consumer(event, context)
