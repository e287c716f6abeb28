"""System API for the ERP (NetSuite, Dynamics 365, SAP S/4HANA Cloud or Oracle Fusion, by ERP_VENDOR); its reserved
concurrency is the ERP's budget.

Called by the state machines (and the signal consumers) with {"action": ..., "workflow": ..., "state": ...};
typed errors propagate, so ASL Retry/Catch match them by class name.
"""

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import adapters
from erphub.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return adapters.handle("erp", event)
