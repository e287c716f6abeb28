"""The one Logger, Tracer and Metrics every module imports (service name comes from POWERTOOLS_SERVICE_NAME)."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# an invocation that had nothing to count (an empty batch, a signal already handled) is normal here
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="erphub")
