"""erphub: run the template on this machine (`up`), look at it (`status`), feed it (`send`, `demo`), publish
what the outbox still holds now (`sweep`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).with_name("scenarios")
VENDOR_FLAGS = {"crm": "CrmVendor", "billing": "BillingVendor", "success": "SuccessVendor", "erp": "ErpVendor"}
VENDOR_EXAMPLES = {"crm": "salesforce | hubspot", "billing": "stripe | chargebee", "success": "gainsight | totango",
                   "erp": "netsuite | dynamics | sap | oracle"}


def main(argv: list[str] | None = None) -> int:
    from_command_line, argv = argv is None, sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ops"]:  # the operator's commands have their own parser (erphub_cli/ops.py)
        from erphub_cli import ops as ops_cli

        return ops_cli.main(argv[1:])
    if argv[:1] == ["kpis"]:  # `erphub kpis` is `erphub ops kpis`: the KPIs over the operator API
        from erphub_cli import ops as ops_cli

        return ops_cli.main(argv)
    parser = argparse.ArgumentParser(prog="erphub", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local stack and serve until Ctrl-C")
    up.add_argument("--template", default="template.yaml")
    up.add_argument("--port", type=int, default=3000, help="gateway port (0: any free port)")
    up.add_argument("--env", default="local", help="samconfig.toml environment for parameter_overrides")
    up.add_argument("--demo", action="store_true", help="run the demo scenarios once the stack is up")
    up.add_argument("--state", metavar="DIR", help="keep tables and sandbox records in DIR across restarts "
                    "(default: in memory only; see docs/local-stack.md)")
    for flag, parameter in VENDOR_FLAGS.items():
        up.add_argument(f"--{flag}", help=f"the {flag} vendor (overrides samconfig's {parameter}), e.g. "
                                          f"{VENDOR_EXAMPLES[flag]}")
    status = commands.add_parser("status", help="what happened on the running stack")
    status.add_argument("--endpoint", help="the embedded AWS URL (default: from .erphub/endpoints.json)")
    send = commands.add_parser("send", help="sign a sample as its vendor would and post it")
    send.add_argument("source")
    send.add_argument("file", type=Path)
    send.add_argument("--gateway", help="gateway URL (default: from .erphub/endpoints.json)")
    demo = commands.add_parser("demo", help="run the scenarios on the running stack (or a temporary one)")
    demo.add_argument("scenarios", nargs="*", type=Path, help=f"scenario files (default: {SCENARIOS}/*.json)")
    demo.add_argument("--template", default="template.yaml")
    smoke = commands.add_parser("smoke", help="check a deployed stack: one signed test webhook per configured source")
    smoke.add_argument("--stack", required=True, help="the CloudFormation stack name (e.g. erphub-dev)")
    smoke.add_argument("--region", help="AWS region (default: the AWS CLI's configuration)")
    commands.add_parser("ops", help="operate the hub over the operator API: exceptions, approve, fix, retry... "
                        "(erphub ops --help)")
    commands.add_parser("kpis", help="the customer-to-cash KPIs over the operator API (erphub kpis --help)")
    sweep = commands.add_parser("sweep", help="run the outbox sweeper now on the running stack")
    sweep.add_argument("--grace", type=int, default=0, help="only items older than this many seconds (default 0)")
    args = parser.parse_args(argv)
    code = _dispatch(args, {"up": _up, "status": _status, "send": _send, "demo": _demo, "smoke": _smoke,
                            "sweep": _sweep})
    if from_command_line and args.command == "up":
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End `erphub up` once its stack has stopped (state kept, audit printed): the interpreter's own teardown of
    the embedded AWS's in-memory objects costs seconds of CPU (~2.4 s measured; beyond 15 s on a loaded CI
    machine) and does nothing a user needs."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class CliError(Exception):
    """A user's mistake or a missing prerequisite: one line on stderr, exit code 2, no traceback."""


def _dispatch(args: argparse.Namespace, commands: dict[str, Any]) -> int:
    try:
        code = int(commands[args.command](args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush (exit 120, a traceback)
        return code
    except BrokenPipeError:  # `erphub status | head`: the reader left; say so once, without a traceback
        _silence_stdout()
        print(f"erphub {args.command}: output closed early (broken pipe)", file=sys.stderr)
        return 1
    except (CliError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"erphub {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, BotoCoreError | ClientError):
            raise
        print(f"erphub {args.command}: AWS: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise BrokenPipeError again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _up(args: argparse.Namespace) -> int:
    from local import endpoints
    from local.stack import HubStack

    started = time.monotonic()
    vendors = {parameter: getattr(args, flag) for flag, parameter in VENDOR_FLAGS.items() if getattr(args, flag)}
    stack = HubStack(args.template, parameter_overrides=vendors or None, env_name=args.env, port=args.port,
                       state_dir=args.state)
    try:  # Ctrl-C is how a user stops it, at any moment (starting, printing, in the demo): a clean exit
        stack.start()
        try:
            endpoints.write(stack)
            _print_endpoints(stack, time.monotonic() - started)
            print("State: " + "\n  ".join(stack.state_report), flush=True)
            if args.demo:
                _run_demo(stack.endpoints["gateway"], stack.client, _resources(stack), _default_scenarios(),
                          stack.endpoints.get("sandbox"))
            print("\nServing. Ctrl-C stops the stack.", flush=True)
            _wait_for_interrupt()
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stopping short
            print("\nStopping...", flush=True)
            endpoints.remove()
            _print_iam_audit(stack)
            stack.stop()
            if stack.keeper is not None:
                print(f"State: {stack.keeper.summary}", flush=True)
    except KeyboardInterrupt:
        pass
    return 0


def _print_iam_audit(stack: Any) -> None:
    """IAM is not enforced locally: say which calls the functions made that their template policies do not allow."""
    from tools import iam_audit

    try:
        print(iam_audit.report(stack), flush=True)
    except Exception as exc:  # the stack must stop whatever the audit does
        print(f"IAM audit failed: {type(exc).__name__}: {exc}", flush=True)


def _wait_for_interrupt() -> None:
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(0.5):
        pass


def _print_endpoints(stack: Any, seconds: float) -> None:
    e = stack.endpoints
    template = stack.template
    print(f"erphub local stack ready in {seconds:.2f} s ({template.path.name}, stack {template.stack_name})")
    print(f"  gateway      {e['gateway']}")
    for route in stack.wiring.routes:
        print(f"    {route.method:6} {e['gateway']}{route.path}  -> {route.function_id}")
    if any(route.path == "/ops/console" for route in stack.wiring.routes):
        print(f"  console      {e['gateway']}/ops/console   sign in as operator@erphub.local / Operator-dev-1234 "
              "(local/dev-users.json)")
    print(f"  AWS (moto)   {e['aws']}   e.g. aws --endpoint-url {e['aws']} sqs list-queues")
    print(f"  sandbox      {e['sandbox'] or '(not available)'}")
    print("Provisioning report:")
    for line in stack.report:
        print(f"  {line}")


def _resources(stack: Any) -> dict[str, dict[str, Any]]:
    return {lid: attrs for lid, attrs in stack.template.physical.items()}


def _default_scenarios() -> list[Path]:
    from local.scenarios import scenario_files

    files = scenario_files(SCENARIOS)
    if not files:
        print(f"(no scenario files in {SCENARIOS})")
    return files


def _run_demo(gateway: str, client: Any, resources: dict[str, Any], files: list[Path],
              sandbox: str | None = None) -> bool:
    from local.scenarios import Runner

    return Runner(gateway, client, resources, sandbox=sandbox).run_files(files)


def _running() -> dict[str, Any]:
    from local import endpoints

    found = endpoints.read()
    if found is None:
        raise CliError("no running stack found (.erphub/endpoints.json): start one with `erphub up`")
    return found


def _status(args: argparse.Namespace) -> int:
    from local import endpoints, status

    url = args.endpoint or _running()["aws"]
    status.report(endpoints.session(url))
    return 0


def _send(args: argparse.Namespace) -> int:
    from local.sandbox.signing import SOURCES
    from local.webhooks import send

    if args.source not in SOURCES:
        raise CliError(f"unknown source {args.source!r}; known: {', '.join(SOURCES)}")
    if not args.file.is_file():
        raise CliError(f"no such file: {args.file}")
    gateway = args.gateway or _running()["gateway"]
    code, body = send(gateway, args.source, args.file)
    print(f"{code} {body}")
    return 0 if code < 400 else 1


def _demo(args: argparse.Namespace) -> int:
    from local import endpoints

    missing = [str(f) for f in args.scenarios if not f.is_file()]
    if missing:
        raise CliError(f"no such scenario file: {', '.join(missing)}")
    files = args.scenarios or _default_scenarios()
    running = endpoints.read()
    if running is not None:
        print(f"Using the running stack: gateway {running['gateway']}")
        ok = _run_demo(running["gateway"], endpoints.session(running["aws"]), running["resources"], files,
                       running.get("sandbox"))
        return 0 if ok else 1
    from local.stack import HubStack

    print("No running stack: starting a temporary one")
    with HubStack(args.template) as stack:
        ok = _run_demo(stack.endpoints["gateway"], stack.client, _resources(stack), files,
                       stack.endpoints.get("sandbox"))
    return 0 if ok else 1


def _smoke(args: argparse.Namespace) -> int:
    from tools import smoke

    try:
        return smoke.run(smoke.aws_clients(args.region), args.stack)
    except smoke.SmokeRefused as refused:
        raise CliError(str(refused)) from refused


def _sweep(args: argparse.Namespace) -> int:
    """Invoke the stack's own OutboxSweeperFunction, as `aws lambda invoke` does on AWS."""
    import json

    from local import endpoints

    running = _running()
    response = endpoints.session(running["aws"])("lambda").invoke(
        FunctionName=running["resources"]["OutboxSweeperFunction"]["Ref"],
        Payload=json.dumps({"grace_seconds": args.grace}).encode())
    report = json.loads(response["Payload"].read() or b"null") or {}
    if response.get("FunctionError"):
        raise CliError(f"the outbox sweeper failed: {report.get('errorType')}: {report.get('errorMessage')}")
    print("outbox sweep: " + ", ".join(f"{name} {value}" for name, value in report.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
