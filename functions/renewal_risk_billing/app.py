"""Renewal-risk signal -> billing collection strategy (a high-risk account's invoices are sent, not auto-charged).

One of three independent consumers of success.renewal_risk.changed, each on its own queue with a DLQ; the
handler is erphub.signals'.
"""

from erphub.signals import lambda_handler_for

lambda_handler = lambda_handler_for("billing")
