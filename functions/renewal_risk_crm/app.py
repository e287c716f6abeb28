"""Renewal-risk signal -> CRM account plan (risk, health, plan) and a task for the account owner.

One of three independent consumers of success.renewal_risk.changed, each on its own queue with a DLQ; the
handler is erphub.signals'.
"""

from erphub.signals import lambda_handler_for

lambda_handler = lambda_handler_for("crm")
