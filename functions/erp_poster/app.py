"""ERP posting FIFO queue -> the ERP adapter: invoices before their payments, one customer's postings in order.

Within a batch invoices go first; a failed message stops the rest of its batch (reported failed too), so
nothing overtakes it; a payment whose invoice is not posted yet fails and retries, holding its group until then.
"""

import json

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import signals
from erphub.observability import logger, metrics

processor = SqsFifoPartialProcessor()


def post(record: SQSRecord) -> dict:
    return signals.post_to_erp(json.loads(record.body))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    event = {**event, "Records": signals.invoices_first(event.get("Records", []))}
    return process_partial_response(event=event, record_handler=post, processor=processor, context=context)
