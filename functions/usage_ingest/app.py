"""POST /usage (API key): the product's usage records, counted once each into their billing period's total."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.observability import logger, metrics, tracer
from erphub.usage import api

app = APIGatewayRestResolver()


@app.post("/usage")
def receive() -> Response:
    return Response(status_code=200, content_type="application/json",
                    body=api.receive(app.current_event.decoded_body))


@app.exception_handler(api.BadBatch)
def refuse(exc: api.BadBatch) -> Response:
    logger.info("usage batch refused", extra={"reason": exc.reason})
    return Response(status_code=exc.status, content_type="application/json",
                    body={"error": "BadUsageBatch", "message": exc.reason})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
