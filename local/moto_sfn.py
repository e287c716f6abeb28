"""Two costs of moto's Step Functions interpreter that the local stack pays per execution and per Task, and
AWS does not (profiled across `bench/workflows.py`; moto-internal, pinned moto==5.2.5):

- every execution parses its state machine's definition again with ANTLR (`ExecutionWorker` calls
  `AmazonStateLanguageParser.parse`): ~155 ms of CPU per execution of the activation's machine. The parse depends on the
  definition text only and its components keep no per-execution state (that lives in the execution's
  Environment), so it is cached per definition text;
- every Lambda Task creates a new boto3 client (`lambda_eval_utils.boto_client_for`), loading the service's
  endpoint rules and opening a new connection: ~11 ms of CPU per Task. One client per (region, service,
  endpoint) is kept and reused (boto3 clients are safe to share between threads once created). The SQS
  integration (the queued ERP calls, `sqs:sendMessage.waitForTaskToken`) makes its clients with its own
  import of `boto_client_for`, which is shared the same way.

Nothing else changes: the same parser output, the same client configuration (moto's own function builds it),
the same HTTP request to the embedded moto server for each invocation.
tests/integration/runtime/test_runtime_moto_sfn_guard.py fails loudly if the replaced functions change.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

from local import moto_sfn_tokens, pinned

EXPECTED_MOTO = "5.2.5"
EXPECTED_PARSE = ("definition",)
EXPECTED_CLIENT = ("region", "service", "state_credentials")
PARSED_DEFINITIONS = 64  # state machines kept parsed (the template has four; tests create a few more)
_client_lock = threading.Lock()


def parser_target() -> Any:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    return AmazonStateLanguageParser


def lambda_utils_target() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    return lambda_eval_utils


def sqs_service_target() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sqs

    return state_task_service_sqs


def _original_parse() -> Any:
    parse = parser_target().parse
    return getattr(parse, "__wrapped_moto_parse__", parse)


def _original_client() -> Any:
    client = lambda_utils_target().boto_client_for
    return getattr(client, "__wrapped_moto_client__", client)


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    sqs_client = sqs_service_target().boto_client_for
    for name, original, expected in (("AmazonStateLanguageParser.parse", _original_parse(), EXPECTED_PARSE),
                                      ("lambda_eval_utils.boto_client_for", _original_client(), EXPECTED_CLIENT),
                                      ("state_task_service_sqs.boto_client_for",
                                       getattr(sqs_client, "__wrapped_moto_client__", sqs_client), EXPECTED_CLIENT)):
        params = tuple(inspect.signature(original).parameters)
        if params != expected:
            raise RuntimeError(f"moto {name} changed signature: {params}")


def install() -> None:
    """Idempotent."""
    check_compatible()
    parser, utils = parser_target(), lambda_utils_target()
    if not getattr(parser.parse, "__wrapped_moto_parse__", None):
        original_parse = _original_parse()
        cached = functools.lru_cache(maxsize=PARSED_DEFINITIONS)(original_parse)

        def parse(definition: str) -> Any:
            return cached(definition)

        parse.__wrapped_moto_parse__ = original_parse  # type: ignore[attr-defined]
        parse.cache_info = cached.cache_info  # type: ignore[attr-defined]
        parser.parse = staticmethod(parse)
    if not getattr(utils.boto_client_for, "__wrapped_moto_client__", None):
        utils.boto_client_for = _shared_clients(_original_client())
    sqs = sqs_service_target()
    if not getattr(sqs.boto_client_for, "__wrapped_moto_client__", None):
        sqs.boto_client_for = _shared_clients(sqs.boto_client_for)
    moto_sfn_tokens.install()  # a retried callback Task waits for its own new token's answer


def _shared_clients(original: Any) -> Any:
    clients: dict[tuple[Any, ...], Any] = {}

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        # the endpoint is part of the key: a later stack in this process may run moto on another port, and
        # in-process moto (mock_aws) intercepts calls instead of taking an endpoint
        key = (region, service, repr(state_credentials), moto_server_port(), botocore_stubber.enabled)
        with _client_lock:
            if key not in clients:
                clients[key] = original(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    boto_client_for.__wrapped_moto_client__ = original  # type: ignore[attr-defined]
    return boto_client_for
