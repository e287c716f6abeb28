"""A fresh task token for every attempt of a callback Task, as Step Functions gives one (pinned moto==5.2.5).

moto's interpreter mints a Task's token once, when the state is entered (`StateTaskServiceCallback._eval_body`),
and its Retry loop runs the integration again with that same token, whose callback endpoint still holds the
previous attempt's answer: a retried `sqs:sendMessage.waitForTaskToken` (the queued ERP calls, after a
RateLimited or Transient answer) failed again at once without waiting for its new message to be answered, and
went to the outage wait after ~1 s instead of after the policy's back-offs. On AWS each attempt is a new
scheduled task with its own token (an answer to an earlier attempt's token finds that task closed). Here every
attempt after the first mints a new token and endpoint before the attempt's frame copies the context object.

And `SendTaskFailure` keeps its `cause`: moto's handler (`StepFunctionResponse.send_task_failure`) passes only the
error on, so a queued ERP call's failure reached `$.error` and the history's `TaskFailed` without the cause that
AWS keeps (the typed error's message, e.g. the ERP's 503, which operators read in the exception).
tests/integration/runtime/test_runtime_moto_sfn_guard.py fails loudly if a replaced method changes.
"""

from __future__ import annotations

import inspect
from typing import Any

EXPECTED_EVALUATE = ("self", "env")


def callback_target() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    return StateTaskServiceCallback


def _original() -> Any:
    evaluate = callback_target()._evaluate_with_timeout
    return getattr(evaluate, "__wrapped_moto_tokens__", evaluate)


def responses_target() -> Any:
    from moto.stepfunctions.responses import StepFunctionResponse

    return StepFunctionResponse


def drops_the_cause() -> bool:
    """moto's SendTaskFailure handler as pinned: it reads the error and never the cause."""
    handler = getattr(responses_target().send_task_failure, "__wrapped_moto_cause__",
                      responses_target().send_task_failure)
    source = inspect.getsource(handler)
    return "send_task_failure(task_token, error=error)" in source and '"cause"' not in source


def _install_cause() -> None:
    target = responses_target()
    if getattr(target.send_task_failure, "__wrapped_moto_cause__", None):
        return
    if not drops_the_cause():
        raise RuntimeError("moto's send_task_failure changed: re-check local/moto_sfn_tokens.py")
    original = target.send_task_failure

    def send_task_failure(self: Any) -> Any:
        from moto.core.responses import EmptyResult

        # the interpreter's backend: the local stack always runs executions (execute_state_machine)
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        return EmptyResult()

    send_task_failure.__wrapped_moto_cause__ = original  # type: ignore[attr-defined]
    target.send_task_failure = send_task_failure


def install() -> None:
    """Idempotent."""
    _install_cause()
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_EVALUATE:
        raise RuntimeError(f"moto ExecutionState._evaluate_with_timeout changed signature: {params}")
    target = callback_target()
    if getattr(target._evaluate_with_timeout, "__wrapped_moto_tokens__", None):
        return
    original = _original()

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

        context = env.states.context_object
        if self.resource.condition == ResourceCondition.WaitForTaskToken \
                and context.context_object_data.get("State", {}).get("RetryCount"):
            env.callback_pool_manager.add(context.update_task_token())
        original(self, env)

    _evaluate_with_timeout.__wrapped_moto_tokens__ = original  # type: ignore[attr-defined]
    target._evaluate_with_timeout = _evaluate_with_timeout
