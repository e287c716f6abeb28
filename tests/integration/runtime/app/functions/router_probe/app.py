"""A REST resolver route that reads its request after a pause, so concurrent requests overlap; another that puts
the request's number in the routing context first (as the operator API puts the verified caller there)."""

import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()


@app.get("/probe/<n>")
def probe(n: str) -> dict:
    time.sleep(0.02)
    return {"n": n, "path": app.current_event.path, "request_id": app.lambda_context.aws_request_id}


@app.get("/context/<n>")
def in_context(n: str) -> dict:
    app.append_context(caller=n)
    time.sleep(0.02)
    return {"n": n, "caller": app.context.get("caller"), "path": app.context.get("_path")}


def handler(event, context):
    return app.resolve(event, context)
