"""The operator API /ops/v1 (exceptions inbox, operator actions, runs, audit); all of it in
erphub.operations. API Gateway's Cognito authorizer has verified the caller; the role rule is in the layer."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.observability import logger, tracer
from erphub.operations.api import create_app

app = create_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
