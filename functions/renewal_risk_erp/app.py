"""Renewal-risk signal -> ERP forecast assumption (renewal probability follows the risk).

One of three independent consumers of success.renewal_risk.changed, each on its own queue with a DLQ; the
handler is erphub.signals'.
"""

from erphub.signals import lambda_handler_for

lambda_handler = lambda_handler_for("erp")
