ATTEMPTS: dict[str, int] = {}


class Transient(Exception):
    """Fails the first two attempts per order: the state machine's Retry matches this class name."""


def handler(event, context):
    order = event["order"]
    ATTEMPTS[order] = ATTEMPTS.get(order, 0) + 1
    if ATTEMPTS[order] < 3:
        raise Transient(f"attempt {ATTEMPTS[order]} of {order} failed")
    return {"attempts": ATTEMPTS[order]}
