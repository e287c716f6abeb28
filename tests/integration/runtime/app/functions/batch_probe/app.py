"""One module-level Powertools BatchProcessor, as the hub's consumers have: each record pauses, so concurrent
invocations overlap; a record whose body is "fail" fails."""

import time

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record):
    time.sleep(0.005)
    if record.body == "fail":
        raise ValueError(record.message_id)


def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
