"""Inbox stream -> event bus (and a quarantined webhook -> its exception). Reports the first record it could not
publish; the stream retries from there."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import publishing
from erphub.observability import logger, metrics, tracer
from erphub.operations import quarantine_exceptions


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # quarantined webhooks first: each opens its exception (operations.quarantine_exceptions); a failure stops the
    # batch there, after publishing the accepted items before it
    accepted, not_opened = quarantine_exceptions.report_quarantined(event.get("Records", []))
    first_failure = publishing.publish_in_order(publishing.pending_from_stream(accepted)) or not_opened
    return {"batchItemFailures": [] if first_failure is None else [{"itemIdentifier": first_failure}]}
