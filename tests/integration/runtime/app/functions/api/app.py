import base64
import json

from probe import env


def handler(event, context):
    if event["resource"] == "/crash":
        raise RuntimeError("the handler crashed")
    if event["resource"] == "/enqueue":
        from probe import sqs

        sqs().send_message(QueueUrl=env("WORK_QUEUE_URL"), MessageBody=event["body"])
        return {"statusCode": 202, "body": "{}"}
    if event["resource"] == "/echo":
        raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    body = {"resource": event["resource"], "path": event["path"], "method": event["httpMethod"],
            "pathParameters": event["pathParameters"], "query": event["multiValueQueryStringParameters"],
            "multi": event["multiValueHeaders"].get("X-Multi"), "requestId": event["requestContext"]["requestId"],
            "sourceIp": event["requestContext"]["identity"]["sourceIp"], "stage": event["requestContext"]["stage"],
            "greeting": env("GREETING"), "function": context.function_name}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps(body)}
