"""/api/v1: the synchronous API - account validation, quote pricing and approval, tax, status lookups."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub.api import accounts, document, errors, media, pricing, quotes, status, tax
from erphub.api import models as v1
from erphub.kpis import vendor_calls
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


errors.install(app, logger)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
@vendor_calls.per_invocation
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # which consumer asked: the id of its API key, as API Gateway passes it (logs per consumer)
    logger.append_keys(consumer=((event.get("requestContext") or {}).get("identity") or {}).get("apiKeyId"))
    return media.refuse_unsupported(event) or app.resolve(event, context)
