"""POST /webhooks/{source}: verify, store once, answer 202 (Salesforce: its SOAP Ack)."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.errors import IngestRejected
from erphub.ingest import api_gateway, service
from erphub.observability import emit_safely, logger, metrics, tracer
from erphub.sources import SOURCE_NAMES

app = APIGatewayRestResolver()


@app.post("/webhooks/<source>")
def receive(source: str) -> Response:
    delivery = service.receive(source, api_gateway.inbound_request(app.current_event))
    if delivery.ack_body is not None:
        return Response(status_code=200, content_type=delivery.ack_content_type, body=delivery.ack_body)
    return Response(status_code=202, content_type="application/json", body=delivery.body())


@app.exception_handler(IngestRejected)
def refuse(exc: IngestRejected) -> Response:
    logger.info("webhook refused", extra={"error": type(exc).__name__, "reason": exc.reason})
    # only a known source is a dimension value: the path segment is the caller's to choose
    source = exc.system if exc.system in SOURCE_NAMES else "unknown"
    emit_safely("webhooks", source=source, status="refused")
    return Response(status_code=exc.http_status, content_type="application/json",
                    body={"error": type(exc).__name__, "message": exc.reason})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
