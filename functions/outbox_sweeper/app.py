"""Every minute: publish accepted inbox items that the stream path has not published.

Run it now: `aws lambda invoke --function-name erphub-<stage>-outbox-sweeper --cli-binary-format
raw-in-base64-out --payload '{"grace_seconds": 0}' out.json` on AWS, `erphub sweep` on the local stack.
"""

from datetime import timedelta

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import publishing
from erphub.observability import logger, metrics

# younger items are normally still on their way through the stream (it publishes within seconds); a
# minute of grace with a 1-minute schedule gets a missed item on the bus within about two minutes
GRACE = timedelta(minutes=1)
TIME_LEFT_TO_FINISH = timedelta(seconds=15)  # stop paging with this much of the timeout left


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    grace = timedelta(seconds=event["grace_seconds"]) if "grace_seconds" in event else GRACE
    remaining = timedelta(milliseconds=context.get_remaining_time_in_millis()) - TIME_LEFT_TO_FINISH
    return publishing.sweep(older_than=grace, budget=min(publishing.SWEEP_BUDGET, remaining))
