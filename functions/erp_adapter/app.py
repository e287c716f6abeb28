"""System API for the ERP (NetSuite, Dynamics 365, SAP S/4HANA Cloud or Oracle Fusion, by ERP_VENDOR); it is the ERP's
budget: the workflows' ERP steps reach it through the ERP work queue (event source MaximumConcurrency = the budget),
ERP posting and the renewal-risk ERP consumer call it directly (reserved concurrency = the same budget).

Direct calls are {"action": ..., "workflow": ..., "state": ...}; typed errors propagate by class name. A work
queue batch is answered to the waiting runs with SendTaskSuccess/SendTaskFailure (erphub.erp_work).
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from erphub import adapters, consuming, erp_work

work = consuming.Consumer("erp_work", erp_work.answer, BatchProcessor(event_type=EventType.SQS))
lambda_handler = erp_work.handler(adapters.lambda_handler_for("erp"), work)
