"""The system APIs (DESIGN.md rule 8): one adapter Lambda per external system dispatches named actions, and
the hub's own steps (identity, data quality, approval, contract, reconciliation, exceptions, outcomes) are
served the same way by the hub-steps Lambda. Each function's handler is `lambda_handler_for(system)`.

A state machine Task calls an adapter with {"action": ..., "workflow": ..., "state": $}; the adapter runs the
action and returns its result. Errors propagate as the typed errors whose class names ASL Retry/Catch match.
Other consumers (ERP posting, renewal-risk signals) reach an adapter through `invoke`, so the adapter's
reserved concurrency stays the system's whole throughput budget.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import errors
from erphub.errors import HubError, Permanent, Transient
from erphub.kpis import vendor_calls
from erphub.observability import logger, trace_keys, tracer

# adapter -> the action prefixes it serves, and the modules that define them
SYSTEMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "crm": (("crm.",), ("crm", "crm_masters", "reconcile_reads")),
    "billing": (("billing.",), ("billing", "usage", "reconcile_reads")),
    "success": (("success.",), ("success",)),
    "erp": (("erp.",), ("erp", "erp_ledger", "usage", "reconcile_reads")),
    "hub_steps": (("identity.", "quality.", "approval.", "contract.", "reconcile.", "exceptions.", "outcome."),
                  ("identity", "quality", "screening", "reconcile", "outcome")),
}


def handle(system: str, event: dict[str, Any]) -> dict[str, Any]:
    from erphub.workflows.actions import COMPENSATIONS, REGISTRY
    from erphub.workflows.run import Run

    prefixes, modules = SYSTEMS[system]
    for module in modules:
        importlib.import_module(f"erphub.workflows.actions.{module}")
    run = Run.model_validate(event)
    trigger = run.state.get("event")  # the claim-checked event keeps its envelope's keys
    trace_keys(correlation_id=run.state.get("correlation_id"), workflow=run.workflow, action=run.action,
               business_key=trigger.get("business_key") if isinstance(trigger, dict) else None)
    if not run.action.startswith(prefixes) or run.action not in REGISTRY:
        raise Permanent(f"the {system} adapter has no action {run.action!r}", system=system)
    # progress: the forward step in flight (compensations, exceptions and outcomes keep the step that failed)
    if run.workflow and "event" in run.state and run.action not in COMPENSATIONS \
            and not run.action.startswith(("outcome.", "exceptions.")):
        from erphub.store.workflow_state import RUNNING, WorkflowStore

        WorkflowStore().record_status(run.correlation_id, run.workflow, RUNNING, version=run.envelope.version,
                                      step=run.action)
    logger.info("action")
    return REGISTRY[run.action](run)


def lambda_handler_for(system: str) -> Callable[[dict, LambdaContext], dict]:
    """The handler of one system's adapter Lambda: only the system differs between them."""
    if system not in SYSTEMS:
        raise Permanent(f"no adapter for {system!r}", system=system)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @vendor_calls.per_invocation
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        return handle(system, event)

    return lambda_handler


def invoke(system: str, action: str, **fields: Any) -> dict[str, Any]:
    """Call an adapter synchronously; its typed error is raised here again under the same class."""
    from botocore.exceptions import ClientError

    from erphub import aws
    from erphub.settings import get_settings

    function = str(getattr(get_settings(), f"{system}_adapter_function", ""))
    if not function:
        raise Permanent(f"{system.upper()}_ADAPTER_FUNCTION is not configured", system=system)
    try:
        response = aws.client("lambda").invoke(FunctionName=function, Payload=json.dumps(
            {"action": action, **fields}, default=str).encode())
    except ClientError as exc:  # throttled by the adapter's reserved concurrency, or the service
        code = exc.response["Error"]["Code"]
        raise (errors.RateLimited if code == "TooManyRequestsException" else Transient)(
            f"{system} adapter: {code}", system=system) from exc
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        cls = getattr(errors, str(payload.get("errorType")), None)
        if not (isinstance(cls, type) and issubclass(cls, HubError)):
            cls = Transient  # a crash of the adapter itself: worth a retry
        raise cls(str(payload.get("errorMessage")), system=system)
    return payload or {}
