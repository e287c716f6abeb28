"""The KPI projection (erphub.kpis): the inbox's and the workflow table's streams -> tracked items and facts in the
KPI table, each write idempotent, so a redelivered batch changes nothing. Its schedule publishes the gauges of what
waits for the ERP as metrics (erphub.kpis.gauges) for the dashboard and the alarms."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.kpis import gauges, projection
from erphub.kpis.store import KpiStore
from erphub.observability import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == "Scheduled Event":
        return gauges.publish(KpiStore())
    store = KpiStore(batched=True)  # the batch's facts in BatchWriteItems; tracks are updated record by record

    def project_record(record: DynamoDBRecord) -> None:
        projection.apply(record.raw_event, store)

    try:
        return dict(process_partial_response(event=event, record_handler=project_record, processor=processor,
                                             context=context))
    finally:  # also when records failed: their tracks are written, and a retry does not find those facts again
        store.flush()
