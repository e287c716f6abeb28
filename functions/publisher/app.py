"""Inbox stream -> event bus. Reports the first record it could not publish; the stream retries from there."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import publishing
from erphub.observability import logger, metrics, tracer


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    first_failure = publishing.publish_in_order(publishing.pending_from_stream(event.get("Records", [])))
    return {"batchItemFailures": [] if first_failure is None else [{"itemIdentifier": first_failure}]}
