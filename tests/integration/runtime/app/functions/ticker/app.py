from probe import report


def handler(event, context):
    report({"ticker": event.get("from")})
