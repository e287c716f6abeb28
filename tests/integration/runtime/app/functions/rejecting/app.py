class Rejected(Exception):
    """The state machine's Catch matches this class name."""


def handler(event, context):
    raise Rejected(f"card declined for {event['order']}")
