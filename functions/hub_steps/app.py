"""The hub's own workflow steps: identity, data-quality and approval gates, contract versions,
reconciliation, exceptions and the events of record.

Called by the state machines with {"action": ..., "workflow": ..., "state": ...};
typed errors propagate, so ASL Retry/Catch match them by class name. The handler is erphub.adapters'.
"""

from erphub.adapters import lambda_handler_for

lambda_handler = lambda_handler_for("hub_steps")
