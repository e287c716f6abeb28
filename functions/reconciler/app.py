"""Reconciliation of active contracts, billing against the ERP against the contract's terms.

The daily schedule starts (or resumes) the day's run; the operator API starts a run on demand and hands it here
as {"reconciliation_id": ...}. Each invocation checks a bounded number of contracts and hands the rest on."""

from datetime import datetime

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.observability import logger, metrics
from erphub.reconciliation import runs
from erphub.settings import get_settings


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("reconciliation_id"):
        reconciliation_id = str(event["reconciliation_id"])
    else:  # the scheduled event: its time names the day's run
        moment = event.get("time")
        day = datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None
        reconciliation_id = runs.start("schedule", runs.daily_id(day))
    logger.append_keys(reconciliation_id=reconciliation_id)
    run = runs.advance(reconciliation_id, get_settings().reconcile_budget,
                       lambda: context.get_remaining_time_in_millis() / 1000)
    if run["status"] != "completed":
        runs.hand_off(reconciliation_id)
    logger.info("reconciliation", extra={k: run.get(k) for k in ("status", "checked", "matched", "mismatched",
                                                                  "failed", "exceptions_opened")})
    return {k: v for k, v in run.items() if k not in ("pk", "sk", "cursor")}
