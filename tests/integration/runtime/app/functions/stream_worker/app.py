from probe import report


def handler(event, context):
    images = [record["dynamodb"]["NewImage"] for record in event["Records"]]
    if any(image.get("poison", {}).get("BOOL") for image in images):
        raise ValueError("poison record in the batch")
    for record in event["Records"]:
        report({"stream": record["dynamodb"]["Keys"]["pk"]["S"], "eventName": record["eventName"],
                "viewType": record["dynamodb"]["StreamViewType"], "source": record["eventSourceARN"]})
