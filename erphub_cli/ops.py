"""erphub ops: the operator's command line over the operator API (/ops/v1), against the running local stack by
default or a deployed stack (--url with login's --client-id/--region). Readable tables, --json for scripts,
one-line errors and a non-zero exit code (1: the API refused, 2: usage, sign-in or connection), no traceback.

    erphub ops login --user operator          # a dev user of the local stack (local/dev-users.json)
    erphub ops exceptions --kind approval     # the inbox;  show ID;  approve ID --note "..."
    erphub ops reconcile                      # billing vs ERP vs contracts now, and the report
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, NoReturn

from erphub_cli import reconcile as ops_reconcile
from erphub_cli.client import OpsClient, OpsError, Session, sign_in

ACTIONS = ("approve", "reject", "resume", "retry", "acknowledge", "reread")  # each: ID [--note]
COLUMNS = [("exception_id", 28), ("kind", 20), ("status", 8), ("owner", 16), ("age", 6), ("business", 30),
           ("reason", 60)]


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except OpsError as exc:
        print(f"erphub ops {args.command}: {exc}", file=sys.stderr)
        return 1 if exc.status not in (0, 401) else 2
    except (ValueError, KeyError, OSError) as exc:
        print(f"erphub ops {args.command}: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


class _Parser(argparse.ArgumentParser):
    """Usage mistakes as one line too (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="erphub ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the operator API (default: the session's, else the local stack's)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="sign in to the user pool and keep the session in .erphub/")
    login.add_argument("--user", help="a local dev user: viewer or operator")
    login.add_argument("--username", help="an email (deployed stack); password: ERPHUB_OPS_PASSWORD or a prompt")
    login.add_argument("--client-id", help="the OpsUserPoolClientId output (deployed stack)")
    login.add_argument("--region", help="the stack's region (deployed stack)")
    login.set_defaults(run=_login)
    commands.add_parser("whoami", help="the signed-in user and groups").set_defaults(run=_whoami)
    listing = commands.add_parser("exceptions", help="the exceptions inbox (open ones unless --status)")
    listing.add_argument("--kind")
    listing.add_argument("--status", default="open", help="open, acting, resolved or all")
    listing.add_argument("--owner")
    listing.add_argument("--older-than", type=int, metavar="SECONDS")
    listing.add_argument("--business-id", help="a deal, contract, customer, invoice or account id, or a run")
    listing.set_defaults(run=_exceptions)
    commands.add_parser("kinds", help="every kind of exception: owner, SLA, actions").set_defaults(run=_kinds)
    show = commands.add_parser("show", help="one exception: payload, comments, audit trail")
    show.add_argument("exception_id")
    show.set_defaults(run=_show)
    notices = commands.add_parser("notifications", help="what operators were told (opened, overdue, failed, DLQ)")
    notices.add_argument("--days", type=int, default=1)
    notices.set_defaults(run=_notifications)
    run = commands.add_parser("run", help="a run's status, exceptions and audit trail")
    run.add_argument("correlation_id")
    run.set_defaults(run=_run)
    _kpis_command(commands)
    _acting_commands(commands)
    ops_reconcile.add(commands, _client, _print)
    from erphub_cli.ops_recovery import add_commands  # imports this module's helpers: after they are defined

    add_commands(commands)
    return parser


def _kpis_command(commands: Any) -> None:
    kpis = commands.add_parser("kpis", help="the customer-to-cash KPIs (docs/kpis.md)")
    kpis.add_argument("--window", choices=("24h", "7d"), default="24h")
    kpis.add_argument("--json", dest="kpis_json", action="store_true", help="print the API's JSON answer")
    kpis.set_defaults(run=_kpis)


def _kpis(args: argparse.Namespace) -> int:
    from erphub_cli import kpis_table

    found = _client(args).get("/kpis", window=args.window)
    args.json = args.json or args.kpis_json
    return _print(args, found, lambda: print(kpis_table.render(found)))


def _acting_commands(commands: Any) -> None:
    for action in ACTIONS:
        command = commands.add_parser(action, help=f"{action} the exception")
        command.add_argument("exception_id")
        command.add_argument("--note", default="")
        command.set_defaults(run=_act, action=action)
    fix = commands.add_parser("fix", help="correct the waiting deal: --set path=value ... or --changes JSON")
    fix.add_argument("exception_id")
    fix.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                     help="e.g. account.legal_entities[1].tax_id=DE999 (VALUE is JSON if it parses, else text)")
    fix.add_argument("--changes", help="the fields to change as JSON, merged into the deal")
    fix.add_argument("--note", default="")
    fix.set_defaults(run=_fix)
    choose = commands.add_parser("choose", help="choose the customer of an identity conflict")
    choose.add_argument("exception_id")
    choose.add_argument("customer_id")
    choose.add_argument("--note", default="")
    choose.set_defaults(run=_choose)
    resolve = commands.add_parser("resolve", help="the cause was fixed outside the hub: close it, say what was fixed")
    resolve.add_argument("exception_id")
    resolve.add_argument("--note", required=True, help="what was fixed, and where")
    resolve.set_defaults(run=_act, action="resolve")
    abandon = commands.add_parser("abandon", help="give up on the exception, with a reason")
    abandon.add_argument("exception_id")
    abandon.add_argument("--reason", required=True)
    abandon.set_defaults(run=_abandon)
    assign = commands.add_parser("assign", help="reassign the exception")
    assign.add_argument("exception_id")
    assign.add_argument("owner")
    assign.add_argument("--note", default="")
    assign.set_defaults(run=_assign)
    comment = commands.add_parser("comment", help="add a comment")
    comment.add_argument("exception_id")
    comment.add_argument("text")
    comment.set_defaults(run=_comment)


# --- sign-in ----------------------------------------------------------------------------------------------
def _login(args: argparse.Namespace) -> int:
    from local.cognito_authorizer import dev_users
    from local.template import REGION

    if args.client_id:  # a deployed stack
        if not (args.url and args.username and args.region):
            raise ValueError("a deployed stack needs --url, --username, --client-id and --region")
        password = os.environ.get("ERPHUB_OPS_PASSWORD") or _prompt(args.username)
        tokens = sign_in(args.client_id, args.username, password, region=args.region)
        url, user = args.url, args.username
    else:
        running = _local_stack()
        users = dev_users()
        if args.user not in users:
            raise ValueError(f"--user {args.user!r}: the local dev users are {', '.join(users)}")
        user = users[args.user]["email"]
        client_id = running["resources"]["OpsUserPoolClient"]["Ref"]
        tokens = sign_in(client_id, user, users[args.user]["password"], region=REGION, endpoint_url=running["aws"])
        url = args.url or f"{running['gateway']}/ops/v1"
    session = Session(url=url, id_token=tokens["IdToken"], user=user,
                      expires_at=time.time() + int(tokens.get("ExpiresIn") or 3600) - 30)
    session.save()
    print(f"signed in as {user} to {url} (session in .erphub/ops-session.json)")
    return 0


def _prompt(username: str) -> str:
    import getpass

    return getpass.getpass(f"password for {username}: ")


def _local_stack() -> dict[str, Any]:
    from local import endpoints

    running = endpoints.read()
    if running is None:
        raise OpsError(0, "no running local stack (.erphub/endpoints.json): start one with `erphub up`, "
                          "or sign in to a deployed stack with --url/--client-id/--region")
    return running


def _client(args: argparse.Namespace) -> OpsClient:
    if os.environ.get("ERPHUB_OPS_TOKEN"):  # e.g. a CI job that signed in itself
        return OpsClient(args.url or os.environ.get("ERPHUB_OPS_URL", ""), os.environ["ERPHUB_OPS_TOKEN"])
    session = Session.load()
    if session is None:
        raise OpsError(401, "not signed in: erphub ops login --user operator (local) or with --client-id")
    client = OpsClient.from_session(session)
    if args.url:
        client.url = args.url.rstrip("/")
    return client


# --- reading ----------------------------------------------------------------------------------------------
def _whoami(args: argparse.Namespace) -> int:
    me = _client(args).get("/me")
    return _print(args, me, lambda: print(f"{me['email'] or me['username']} ({', '.join(me['groups']) or 'no group'})"))


def _exceptions(args: argparse.Namespace) -> int:
    found = _client(args).get("/exceptions", kind=args.kind, owner=args.owner, min_age_seconds=args.older_than,
                              business_id=args.business_id, status=None if args.status == "all" else args.status)
    return _print(args, found, lambda: _table(found))


def _table(rows: list[dict[str, Any]]) -> None:
    print("  ".join(name.upper().ljust(width) for name, width in COLUMNS).rstrip())
    for row in rows:
        values = {**row, "age": _age(row["age_seconds"]) + ("!" if row["overdue"] else ""),
                  "business": row["business_ids"].get("business_key") or row["correlation_id"]}
        print("  ".join(_cell(values.get(name), width) for name, width in COLUMNS).rstrip())
    print(f"({len(rows)} exception{'s' * (len(rows) != 1)}; ! = past its SLA)")


def _kinds(args: argparse.Namespace) -> int:
    found = _client(args).get("/kinds")
    return _print(args, found, lambda: [print(f"{k['kind']:24} {k['owner']:16} SLA {_age(k['sla_seconds']):>4}  "
                                              f"{', '.join(k['actions'])}") for k in found])


def _show(args: argparse.Namespace) -> int:
    detail = _client(args).get(f"/exceptions/{args.exception_id}")
    return _print(args, detail, lambda: _detail(detail))


def _detail(d: dict[str, Any]) -> None:
    fields = [("exception", d["exception_id"]), ("kind", f"{d['kind']} ({d['title']})"), ("status", d["status"]),
              ("owner", d["owner"]), ("opened", f"{d['opened_at']} ({_age(d['age_seconds'])} ago, due {d['due_at']}"
                                                f"{', OVERDUE' if d['overdue'] else ''})"),
              ("run", f"{d['correlation_id']} {d['workflow']} {d['run_status']} at {d['step'] or '-'}"),
              ("business ids", ", ".join(f"{k}={v}" for k, v in d["business_ids"].items())),
              ("reason", d["reason"]), ("error", d["error"]), ("actions", ", ".join(d["actions"]) or "-"),
              ("resolution", d["resolution"]), ("note", d["note"])]
    for name, value in fields:
        if value:
            print(f"{name:13} {value}")
    for c in d["comments"]:
        print(f"{'comment':13} {c['at']} {c['by']}: {c['text']}")
    for a in d["audit"]:
        print(f"{'audit':13} {a['at']} {a['actor']} {a['action']}: {a['before'].get('status')} -> "
              f"{a['after'].get('status')}{' — ' + a['note'] if a.get('note') else ''}")


def _run(args: argparse.Namespace) -> int:
    run = _client(args).get(f"/runs/{args.correlation_id}")
    return _print(args, run, lambda: print(f"{run['correlation_id']}: {run['workflow']} {run['status']} at "
                                           f"{run['step'] or '-'} ({len(run['exceptions'])} exceptions, "
                                           f"{len(run['audit'])} operator actions)"))


def _notifications(args: argparse.Namespace) -> int:
    found = _client(args).get("/notifications", days=args.days)

    def table() -> None:
        for n in found:
            print(f"{n['at'][:19]}  {n['type']:22} {n['owner']:16} {n['exception_id']:28} "
                  f"{n['business_ids'].get('business_key', n['correlation_id'])}")
        print(f"({len(found)} notification{'s' * (len(found) != 1)})")

    return _print(args, found, table)


# --- acting -----------------------------------------------------------------------------------------------
def _act(args: argparse.Namespace) -> int:
    return _done(args, _client(args).post(f"/exceptions/{args.exception_id}/{args.action}", {"note": args.note}))


def _fix(args: argparse.Namespace) -> int:
    client = _client(args)
    changes: dict[str, Any] = json.loads(args.changes) if args.changes else {}
    if args.set:
        deal = client.get(f"/exceptions/{args.exception_id}")["payload"]["data"]
        changes.update(_apply_paths(deal, args.set))
    if not changes:
        raise ValueError("nothing to fix: give --set PATH=VALUE or --changes JSON")
    return _done(args, client.post(f"/exceptions/{args.exception_id}/fix", {"changes": changes, "note": args.note}))


def _apply_paths(deal: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Set each path in a copy of the deal; the changed top-level fields are what the API merges."""
    import re

    edited = json.loads(json.dumps(deal))
    touched: set[str] = set()
    for assignment in assignments:
        path, _, raw = assignment.partition("=")
        parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
        if not parts or not _:
            raise ValueError(f"--set {assignment!r}: expected PATH=VALUE")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        target = edited
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value
        touched.add(str(parts[0]))
    return {name: edited[name] for name in touched}


def _choose(args: argparse.Namespace) -> int:
    return _done(args, _client(args).post(f"/exceptions/{args.exception_id}/choose",
                                          {"customer_id": args.customer_id, "note": args.note}))


def _abandon(args: argparse.Namespace) -> int:
    return _done(args, _client(args).post(f"/exceptions/{args.exception_id}/abandon", {"reason": args.reason}))


def _assign(args: argparse.Namespace) -> int:
    detail = _client(args).post(f"/exceptions/{args.exception_id}/assign", {"owner": args.owner, "note": args.note})
    return _print(args, detail, lambda: print(f"{detail['exception_id']} is now owned by {detail['owner']}"))


def _comment(args: argparse.Namespace) -> int:
    detail = _client(args).post(f"/exceptions/{args.exception_id}/comments", {"text": args.text})
    return _print(args, detail, lambda: print(f"{detail['exception_id']}: {len(detail['comments'])} comments"))


def _done(args: argparse.Namespace, result: dict[str, Any]) -> int:
    def say() -> None:
        print(f"{result['exception_id']}: {result['status']} — {result['resolution']}")
        for change in (result.get("outcome") or {}).get("diff") or []:
            where = (f"written to {change['written_to']}" if change.get("written_to")
                     else f"mastered by {change['master']}")
            print(f"  {change['field']}: {change['before']!r} -> {change['after']!r} ({where})")
        if (result.get("outcome") or {}).get("execution"):
            print(f"  new run {result['outcome']['correlation_id']} ({result['outcome']['execution']})")

    return _print(args, result, say)


def _print(args: argparse.Namespace, data: Any, readable: Any) -> int:
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        readable()
    return 0


def _age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _cell(value: Any, width: int) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)
