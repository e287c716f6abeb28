"""Operator notifications (erphub.operations.notify): the workflow table's stream -> an exception opened, past
its SLA, a workflow failed, a DLQ message -> the bus and the operators' topic; on its schedule, marks the
exceptions past their SLA (which the stream then announces)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.observability import logger, tracer
from erphub.operations import notify

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def notify_record(record: DynamoDBRecord) -> None:
    notify.on_stream_record(record.raw_event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return dict(process_partial_response(event=event, record_handler=notify_record, processor=processor,
                                             context=context))
    return notify.sweep_overdue()
