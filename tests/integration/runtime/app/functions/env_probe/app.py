import os
import time
from os import environ


def handler(event, context):
    seen = set()
    for _ in range(event.get("rounds", 20)):
        seen.add(os.environ["PROBE_VALUE"])
        seen.add(os.getenv("PROBE_VALUE"))
        seen.add(environ.get("PROBE_VALUE"))
        time.sleep(0.001)
    return {"seen": sorted(seen), "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "context": context.function_name,
            "endpoint": os.environ["AWS_ENDPOINT_URL"], "stage": os.environ["STAGE"]}
