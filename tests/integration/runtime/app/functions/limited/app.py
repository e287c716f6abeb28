import threading
import time

_lock = threading.Lock()
_running = 0
_peak = 0


def handler(event, context):
    global _running, _peak
    with _lock:
        _running += 1
        _peak = max(_peak, _running)
    time.sleep(event.get("hold", 0.15))
    with _lock:
        _running -= 1
    return {"peak": _peak}
