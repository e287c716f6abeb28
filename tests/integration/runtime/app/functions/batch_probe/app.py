"""Module-level Powertools batch processors, as the hub's consumers have (a BatchProcessor; the ERP posting's
SqsFifoPartialProcessor): each record pauses, so concurrent invocations overlap; a record whose body is "fail"
fails. An event with "fifo": true goes through the FIFO processor, which skips the rest of a failed group."""

import time

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)

processor = BatchProcessor(event_type=EventType.SQS)
fifo = SqsFifoPartialProcessor(skip_group_on_error=True)


def record_handler(record):
    time.sleep(0.005)
    if record.body == "fail":
        raise ValueError(record.message_id)


def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=fifo if event.get("fifo") else processor, context=context)
