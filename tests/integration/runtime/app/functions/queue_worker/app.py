import json

from probe import report


def handler(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            report({"processed": body["id"], "receiveCount": record["attributes"]["ApproximateReceiveCount"]})
    return {"batchItemFailures": failures}
