"""Every few minutes: publish accepted inbox items that the stream path has not published."""

from datetime import timedelta

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import publishing
from erphub.observability import logger, metrics

GRACE = timedelta(minutes=2)  # younger items are still on their way through the stream


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return publishing.sweep(older_than=GRACE)
