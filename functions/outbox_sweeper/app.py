"""Every few minutes: publish accepted inbox items that the stream path has not published."""

from datetime import timedelta

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import publishing
from erphub.observability import logger, metrics

GRACE = timedelta(minutes=2)  # younger items are still on their way through the stream


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # an operator may sweep at once: invoke with {"grace_seconds": 0}
    grace = timedelta(seconds=event["grace_seconds"]) if "grace_seconds" in event else GRACE
    return publishing.sweep(older_than=grace)
