"""System API for customer success (Gainsight, by SUCCESS_VENDOR).

Called by the state machines (and the signal consumers) with {"action": ..., "workflow": ..., "state": ...};
typed errors propagate, so ASL Retry/Catch match them by class name. The handler is erphub.adapters'.
"""

from erphub.adapters import lambda_handler_for

lambda_handler = lambda_handler_for("success")
