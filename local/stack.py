"""HubStack: the whole template on one machine, in one process — for `erphub up` and for tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.embedded_aws import EmbeddedAws
from local.template import Template


class FunctionError(Exception):
    """A handler raised: carries Lambda's errorType and errorMessage."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('errorType')}: {error.get('errorMessage')}")
        self.error_type = error.get("errorType", "")
        self.error_message = error.get("errorMessage", "")
        self.error = error


class HubStack:
    def __init__(self, template_path: str | Path = "template.yaml", parameter_overrides: dict[str, str] | None = None,
                 env_name: str = "local", port: int = 0, aws_port: int = 0, stack_name: str | None = None,
                 schedule_speedup: float = 1.0, sandbox: bool = True, preload: bool = True,
                 runtime: bool = True, state_dir: str | Path | None = None, aws_in_process: bool = True,
                 sandbox_process: bool = False) -> None:
        self.template_path = Path(template_path)
        self.parameter_overrides = parameter_overrides
        self.env_name, self.stack_name = env_name, stack_name
        self.port, self.aws_port = port, aws_port
        self.schedule_speedup = schedule_speedup
        self.use_sandbox, self.preload = sandbox, preload
        self.sandbox_process = sandbox_process  # True: the sandbox in a child process (local/sandbox/process.py)
        self.runtime = runtime  # False: resources and functions only (no gateway, pollers, schedules), for benches
        self.gateway_url: str | None = None
        self.template: Template | None = None
        self.aws = EmbeddedAws(aws_port, in_process=aws_in_process)  # False: every AWS call over HTTP
        self.functions: Any = None
        self.wiring: Any = None
        self.endpoints: dict[str, Any] = {}
        self._parts: list[Any] = []  # started pieces, stopped in reverse order
        self.sandbox: Any = None
        self.state_dir = state_dir  # None: in memory only (local/state.py says what is kept)
        self.state_report: list[str] = []
        self.keeper: Any = None

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        from local import aws_calls, log_context, moto_lambda
        from local.functions import Functions
        from local.provision import Provisioner

        started = time.monotonic()
        self.template = Template(self.template_path, self.parameter_overrides, self.env_name, self.stack_name)
        log_context.install()  # concurrent invocations: their own log keys and metrics, whole lines
        self.aws.start()
        aws_calls.install()
        aws_calls.clear()  # one stack per process: the calls recorded are this stack's
        try:
            self.wiring = Provisioner(self.template, self.aws).run()
            self._start_sandbox()
            self.functions = Functions(self.wiring.functions, self.aws.url)
            self._parts.append(_Exited(self.functions.shared_environment()))
            moto_lambda.set_dispatcher(self.functions.dispatch)
            self._keep_state()  # before the pollers: the inbox stream then publishes restored accepted items
            if self.runtime:
                self._start_runtime()
        except BaseException:
            self.stop()
            raise
        if self.preload:
            self._parts.append(_Preload(self.functions))
        self.endpoints = {"gateway": self.gateway_url, "aws": self.aws.url,
                          "sandbox": self._sandbox_url(), "routes": self._routes(),
                          "ready_seconds": round(time.monotonic() - started, 3)}
        return self.endpoints

    def _start_runtime(self) -> None:
        from local.api_keys import ApiKeys
        from local.cognito_authorizer import gateway_check
        from local.gateway import Gateway
        from local.pollers import Pollers
        from local.schedules import Scheduler

        gateway = Gateway(self.wiring.routes, self.functions, port=self.port, authorize=gateway_check(self),
                          api_keys=ApiKeys.from_template(self.template))
        self.gateway_url = gateway.start()
        self._parts.append(gateway)
        pollers = Pollers(self, self.wiring)
        pollers.start()
        self._parts.append(pollers)
        scheduler = Scheduler(self, self.wiring.schedules, speedup=self.schedule_speedup)
        scheduler.start()
        self._parts.append(scheduler)
        self.scheduler = scheduler

    def _keep_state(self) -> None:
        from local import state

        if self.state_dir is None:
            self.state_report = ["in memory only: everything is lost when the stack stops (--state DIR keeps it)"]
            return
        directory = state.StateDir(self.state_dir)
        crashed_at = directory.claim()
        kept = directory.read()
        self.state_report = [f"kept in {directory.path}"]
        if kept is not None:
            headline, *lost = state.lost(kept, crashed_at)
            self.state_report += [headline, *state.restore(self, kept), *lost]
        elif crashed_at is not None:
            self.state_report.append("the last run did not stop cleanly and saved nothing: nothing to restore")
        self.keeper = state.Keeper(self, directory)
        self.keeper.start()
        self._parts.insert(0, self.keeper)  # stopped last: its final save sees everything the others did

    def _start_sandbox(self) -> None:
        if not self.use_sandbox:
            return
        from local import sandbox

        if self.sandbox_process:
            from local.sandbox.process import SandboxProcess

            self.sandbox = SandboxProcess()
        else:
            self.sandbox = sandbox.start()
        self._parts.append(self.sandbox)
        # a variable a function declares that the sandbox also provides points at the sandbox locally
        provided = sandbox.environment(self.sandbox)
        for spec in self.wiring.functions:
            for name in spec.variables.keys() & provided.keys():
                spec.variables[name] = provided[name]
        # and the secrets those variables name hold the credentials the sandbox accepts
        for name, value in sandbox.secrets(self.sandbox).items():
            self._put_secret(name, json.dumps(value))

    def _put_secret(self, name: str, value: str) -> None:
        secrets = self.client("secretsmanager")
        try:
            secrets.put_secret_value(SecretId=name, SecretString=value)
        except secrets.exceptions.ResourceNotFoundException:
            secrets.create_secret(Name=name, SecretString=value)

    def _sandbox_url(self) -> str | None:
        return self.sandbox.url if self.sandbox is not None else None

    def _routes(self) -> list[str]:
        return [f"{r.method} {self.gateway_url}{r.path} -> {r.function_id}" for r in self.wiring.routes]

    def stop(self) -> None:
        from local import log_context, moto_lambda

        while self._parts:
            part = self._parts.pop()
            try:
                part.stop()
            except Exception:  # noqa: S112 - stopping the rest matters more
                continue
        moto_lambda.set_dispatcher(None)
        self.aws.stop()
        log_context.uninstall_streams()

    def __enter__(self) -> HubStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- helpers for tests and the CLI --------------------------------------------------------------------
    @property
    def report(self) -> list[Any]:
        return self.wiring.report if self.wiring else []

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    @property
    def aws_calls(self) -> dict[str, set[Any]]:
        """{function logical id: the AwsCalls its code made} (local.aws_calls; audited by tools.iam_audit)."""
        from local import aws_calls

        return aws_calls.recorded()

    def fire_schedule(self, name: str) -> None:
        """Deliver a schedule's event now (name: the rule's physical name or "<Function>.Events.<Event>")."""
        if ".Events." in name:  # the SAM transform names an event's rule <Function><Event>
            name = self.physical(name.replace(".Events.", ""))
        self.scheduler.fire(name)

    def physical(self, logical_id: str, attribute: str = "Ref") -> Any:
        """Ref (queue URL, table name, state machine ARN, ...) or an attribute ("Arn", "StreamArn") of a resource."""
        assert self.template is not None
        if attribute == "Ref":
            return self.template.resolver.ref(logical_id)
        return self.template.resolver.get_att(logical_id, attribute)

    def invoke(self, function_id: str, event: Any) -> Any:
        """Invoke a function in-process as Lambda would; a handler exception raises FunctionError."""
        result = self.functions.invoke(function_id, event)
        if result.failed:
            raise FunctionError(result.error)
        return result.payload

    @staticmethod
    def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)

    def receive_all(self, queue_id: str, *, wait: float = 0.0, count: int = 0) -> list[Any]:
        """Drain a queue (logical id or URL): bodies, JSON-decoded where JSON; with count, wait for that many."""
        url = queue_id if queue_id.startswith("http") else self.physical(queue_id)
        sqs, bodies = self.client("sqs"), []
        deadline = time.monotonic() + wait
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           AttributeNames=["All"]).get("Messages", [])
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                bodies.append(_decode(message["Body"]))
            if messages:
                continue
            if (count and len(bodies) >= count) or time.monotonic() >= deadline:
                return bodies
            time.sleep(0.02)

    def queue_depth(self, queue_id: str) -> int:
        url = queue_id if queue_id.startswith("http") else self.physical(queue_id)
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        return sum(int(v) for v in attributes["Attributes"].values())

    def pause_consumers(self, queue_id: str, paused: bool = True) -> int:
        """Hold (or release) the event-source pollers reading a queue, so a test can read what arrives there.

        Like disabling the event source mapping on AWS; returns how many pollers it changed."""
        from local.pollers import Pollers, SqsPoller

        arn = self.physical(queue_id, "Arn")
        changed = 0
        for part in self._parts:
            for loop in part.loops if isinstance(part, Pollers) else []:
                if isinstance(loop, SqsPoller) and loop.source.source_arn == arn:
                    loop.enabled = not paused
                    changed += 1
        return changed

    def start_execution(self, state_machine_id: str, payload: Any, name: str | None = None) -> str:
        import uuid

        return self.client("stepfunctions").start_execution(
            stateMachineArn=self.physical(state_machine_id), name=name or uuid.uuid4().hex,
            input=json.dumps(payload))["executionArn"]


class _Preload:
    """The handlers imported in a background thread once the stack is up. Stopping ends it and waits for the
    import under way: a process exiting while that thread was importing aborted with SIGABRT ("FATAL: exception not
    rethrown", glibc's message for a thread unwound through native code; which extension was not found) in 7 of 60
    starts and stops of the test template."""

    def __init__(self, functions: Any) -> None:
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=functions.preload, args=(self.stopping,), name="preload-handlers",
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


class _Exited:
    """A context manager entered now and exited with the stack's other parts."""

    def __init__(self, context: Any) -> None:
        self.context = context
        context.__enter__()

    def stop(self) -> None:
        self.context.__exit__(None, None, None)


def _decode(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body
