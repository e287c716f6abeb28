"""Every AWS API call a function's code makes in the local stack, attributed to the function running.

botocore is hooked once (`BaseClient._make_api_call`, which every client method, paginator, waiter and
Powertools provider goes through). A call counts when it is made inside an invocation or a cold start
(`local.functions.current_function` is set); calls of the stack itself and of tests are not recorded, nor
those of threads a handler starts itself (they begin with an empty context, as for the settings).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from local.functions import current_function

_RESOURCE_PARAMS = ("TableName", "QueueUrl", "QueueName", "EventBusName", "stateMachineArn", "executionArn",
                    "SecretId", "FunctionName", "Bucket")
_TRANSACT_PARTS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_lock = threading.Lock()
_calls: dict[str, set[AwsCall]] = {}
_counts: Counter[tuple[str, str, str]] = Counter()  # (function, service, operation) -> calls: what a bench prices


@dataclass(frozen=True, order=True)
class AwsCall:
    service: str  # the IAM prefix (signing name): "dynamodb", "states", "sqs", ...
    operation: str  # the API operation: "PutItem", "Invoke", "TransactWriteItems"
    resource: str = ""  # what the call names, as given: table (table/index/name), queue URL, bus, ARN, bucket/key
    parts: tuple[str, ...] = ()  # TransactWriteItems/TransactGetItems: the item operations on this table

    def __str__(self) -> str:
        parts = f" [{', '.join(self.parts)}]" if self.parts else ""
        return f"{self.service}:{self.operation}" + (f" {self.resource}" if self.resource else "") + parts


def install() -> None:
    """Idempotent: wrap botocore's one entry point for API calls."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call
    if getattr(original, "_records_aws_calls", False):
        return

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = current_function.get()
        if function is not None:
            service = self.meta.service_model.signing_name
            calls = calls_of(service, operation_name, api_params)
            with _lock:
                _calls.setdefault(function, set()).update(calls)
                _counts[(function, service, operation_name)] += 1
        return original(self, operation_name, api_params)

    _make_api_call._records_aws_calls = True  # type: ignore[attr-defined]
    BaseClient._make_api_call = _make_api_call


def recorded() -> dict[str, set[AwsCall]]:
    with _lock:
        return {function: set(calls) for function, calls in _calls.items()}


def counts() -> Counter[tuple[str, str, str]]:
    """How many calls of each (function, service, operation) the functions' code made since the last clear()."""
    with _lock:
        return Counter(_counts)


def clear() -> None:
    with _lock:
        _calls.clear()
        _counts.clear()


def calls_of(service: str, operation: str, params: dict[str, Any]) -> list[AwsCall]:
    """One AwsCall per resource the call names (a batch over two tables is two)."""
    if service == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
        by_table: dict[str, set[str]] = {}
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                by_table.setdefault(body.get("TableName", ""), set()).add(_TRANSACT_PARTS.get(kind, kind))
        return [AwsCall(service, operation, table, tuple(sorted(parts))) for table, parts in sorted(by_table.items())]
    if service == "dynamodb" and isinstance(params.get("RequestItems"), dict):  # BatchGetItem, BatchWriteItem
        return [AwsCall(service, operation, table) for table in sorted(params["RequestItems"])]
    if service == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName") or "default" for entry in params.get("Entries", [])}
        return [AwsCall(service, operation, bus) for bus in sorted(buses)]
    resource = next((str(params[key]) for key in _RESOURCE_PARAMS if params.get(key)), "")
    if service == "dynamodb" and resource and params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    elif service == "s3" and resource and params.get("Key"):
        resource += f"/{params['Key']}"
    return [AwsCall(service, operation, resource)]
