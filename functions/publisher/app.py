"""Inbox stream -> event bus: received webhooks mapped into canonical events (or quarantined, or ignored), then
published in order. Reports the first record it could not map or publish; the stream retries from there."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import publishing
from erphub.ingest import mapping
from erphub.observability import logger, metrics, tracer


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    pending, not_mapped = mapping.pending_from_stream(event.get("Records", []))
    first_failure = publishing.publish_in_order(pending) or not_mapped
    return {"batchItemFailures": [] if first_failure is None else [{"itemIdentifier": first_failure}]}
