"""/api/v1: the synchronous API - account validation, quote pricing and approval, tax, status lookups."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.api import accounts, document, errors, media, pricing, quotes, status, tax
from erphub.api import models as v1
from erphub.errors import HubError
from erphub.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True)
app.configure_openapi(title=document.TITLE, version=document.VERSION, description=document.DESCRIPTION,
                      security_schemes=document.security_schemes(), security=document.SECURITY)


@app.post("/api/v1/accounts/validate", responses=document.answers(v1.AccountValidation, document.BODY))
def validate_account(account: v1.AccountInput) -> v1.AccountValidation:
    return accounts.validate(account)


@app.post("/api/v1/quotes/price", responses=document.answers(v1.PricedQuote, document.VENDOR))
def price_quote(quote: v1.QuoteInput) -> v1.PricedQuote:
    return pricing.price(quote)


@app.post("/api/v1/quotes", responses=document.answers(v1.QuoteStatus, document.QUOTE))
def submit_quote(quote: v1.QuoteSubmission) -> v1.QuoteStatus:
    return quotes.submit(quote)


@app.get("/api/v1/quotes/<quote_id>", responses=document.answers(v1.QuoteStatus, document.LOOKUP))
def quote_status(quote_id: str) -> v1.QuoteStatus:
    return quotes.status(quote_id)


@app.post("/api/v1/tax/calculate", responses=document.answers(v1.TaxCalculation, document.VENDOR))
def calculate_tax(request: v1.TaxRequest) -> v1.TaxCalculation:
    return tax.calculate(request)


@app.get("/api/v1/customers/<record_id>", responses=document.answers(v1.StatusLookup, document.LOOKUP))
def customer_status(record_id: str) -> v1.StatusLookup:
    return status.customer(record_id)


@app.get("/api/v1/contracts/<record_id>", responses=document.answers(v1.StatusLookup, document.LOOKUP))
def contract_status(record_id: str) -> v1.StatusLookup:
    return status.contract(record_id)


@app.get("/api/v1/orders/<record_id>", responses=document.answers(v1.StatusLookup, document.LOOKUP))
def order_status(record_id: str) -> v1.StatusLookup:
    return status.order(record_id)


@app.get("/api/v1/invoices/<record_id>", responses=document.answers(v1.StatusLookup, document.LOOKUP))
def invoice_status(record_id: str) -> v1.StatusLookup:
    return status.invoice(record_id)


@app.get("/api/v1/workflows/<record_id>", responses=document.answers(v1.StatusLookup, document.LOOKUP))
def workflow_status(record_id: str) -> v1.StatusLookup:
    return status.workflow(record_id)


@app.exception_handler(HubError)
def refuse(exc: HubError) -> Response:
    code, name = errors.status_of(exc)
    logger.info("api request refused", extra={"error": type(exc).__name__, "reason": exc.reason, "system": exc.system})
    return _error(code, type(exc).__name__, exc.reason, name)


@app.not_found
def no_route(_: Exception) -> Response:
    """A path API Gateway routed here that the resolver cannot read (e.g. an id it cannot match)."""
    return _error(404, "NotFound", f"no such record: {app.current_event.path}", "not_found")


@app.exception_handler(RequestValidationError)
def invalid(exc: RequestValidationError) -> Response:
    problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()[:10])
    return _error(422, "RequestInvalid", problems or "the request does not match the schema", "request_invalid")


def _error(status_code: int, error: str, message: str, code: str) -> Response:
    return Response(status_code=status_code, content_type="application/json",
                    body=errors.body(error, message, code, logger.get_correlation_id() or ""))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # which consumer asked: the id of its API key, as API Gateway passes it (logs per consumer)
    logger.append_keys(consumer=((event.get("requestContext") or {}).get("identity") or {}).get("apiKeyId"))
    return media.refuse_unsupported(event) or app.resolve(event, context)
