"""The one Logger, Tracer and Metrics every module imports (service name comes from POWERTOOLS_SERVICE_NAME)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="erphub")
