"""Logs a few lines and counts a few metrics per invocation, with pauses so concurrent invocations overlap."""

import time

from erphub.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@metrics.log_metrics
def handler(event, context):
    n = event["n"]
    logger.append_keys(probe=n)
    for step in range(event.get("steps", 4)):
        logger.info("probe step", extra={"step": step})
        metrics.add_metric(name=f"probe_{n}", unit="Count", value=1)
        time.sleep(event.get("pause", 0.002))
    return {"n": n}
