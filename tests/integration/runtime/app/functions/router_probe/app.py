"""A REST resolver route that reads its request after a pause, so concurrent requests overlap."""

import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()


@app.get("/probe/<n>")
def probe(n: str) -> dict:
    time.sleep(0.02)
    return {"n": n, "path": app.current_event.path, "request_id": app.lambda_context.aws_request_id}


def handler(event, context):
    return app.resolve(event, context)
