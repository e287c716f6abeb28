"""On a schedule: every usage period past its cut-off is reported to billing and its overage booked in the ERP,
once. The scheduled event's `time` is the moment that decides which periods are due."""

from datetime import datetime

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.observability import logger, metrics
from erphub.usage import report


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    moment = event.get("time")
    return report.report_due(datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None)
