"""System API for the ERP (NetSuite, Dynamics 365, SAP S/4HANA Cloud or Oracle Fusion, by ERP_VENDOR); its reserved
concurrency is the ERP's budget.

Called by the state machines (and the signal consumers) with {"action": ..., "workflow": ..., "state": ...};
typed errors propagate, so ASL Retry/Catch match them by class name. The handler is erphub.adapters'.
"""

from erphub.adapters import lambda_handler_for

lambda_handler = lambda_handler_for("erp")
