"""erphub ops verbs for recovery and history: quarantine, replay, dlq, redrive, purge, archive-replay, sweep,
timeline. Same conventions as erphub_cli/ops.py (tables, --json, one-line errors, exit codes 1 and 2)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from erphub_cli.ops import _cell, _client, _print


def add_commands(commands: Any) -> None:
    quarantined = commands.add_parser("quarantine", help="quarantined webhooks; with KEY: one, with its raw body")
    quarantined.add_argument("key", nargs="?", help="<source>#<vendor event id>, as listed")
    quarantined.add_argument("--source")
    quarantined.add_argument("--limit", type=int, default=50)
    quarantined.set_defaults(run=_quarantine)
    replay = commands.add_parser("replay", help="replay a quarantined webhook once: re-normalized, or --corrected")
    replay.add_argument("key")
    replay.add_argument("--corrected", metavar="JSON|@FILE",
                        help="the canonical fields {type, business_key, data, version...}; default: re-normalize")
    replay.add_argument("--note", default="")
    replay.set_defaults(run=_replay)
    dlq = commands.add_parser("dlq", help="dead-letter queues; with QUEUE: its messages and why each failed")
    dlq.add_argument("queue", nargs="?")
    dlq.add_argument("--limit", type=int, default=50)
    dlq.set_defaults(run=_dlq)
    redrive = commands.add_parser("redrive", help="put a DLQ's messages (or --message ID) back on their queue")
    redrive.add_argument("queue")
    redrive.add_argument("--message", help="one message id (dlq QUEUE lists them)")
    redrive.add_argument("--note", default="")
    redrive.set_defaults(run=_redrive)
    purge = commands.add_parser("purge", help="delete every message of a DLQ for good")
    purge.add_argument("queue")
    purge.add_argument("--confirm", required=True, help="the queue's name again")
    purge.add_argument("--note", default="")
    purge.set_defaults(run=_purge)
    archive = commands.add_parser("archive-replay", help="replay one event type's archived events of a window")
    archive.add_argument("event_type", nargs="?", help="e.g. crm.opportunity.closed_won")
    archive.add_argument("--from", dest="start", help="ISO 8601, matched against each event's occurred_at")
    archive.add_argument("--to", dest="end", help="ISO 8601")
    archive.add_argument("--status", metavar="REPLAY_NAME", help="where a replay started earlier stands")
    archive.add_argument("--note", default="")
    archive.set_defaults(run=_archive_replay)
    sweep = commands.add_parser("sweep", help="publish every accepted webhook not yet published, now")
    sweep.add_argument("--note", default="")
    sweep.set_defaults(run=_sweep)
    timeline = commands.add_parser("timeline", help="the run history of a deal, contract or customer")
    timeline.add_argument("subject", choices=["deal", "contract", "customer"])
    timeline.add_argument("id")
    timeline.set_defaults(run=_timeline)


def _path(*parts: str) -> str:
    return "".join("/" + quote(p, safe="") for p in parts)


def _key_path(key: str) -> str:
    source, hash_, event_id = key.partition("#")
    if not hash_ or not source or not event_id:
        raise ValueError(f"{key!r}: a quarantine key is <source>#<vendor event id>, as `erphub ops quarantine` lists")
    return _path("quarantine", source, event_id)


# --- quarantine -------------------------------------------------------------------------------------------
def _quarantine(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.key:
        detail = client.get(_key_path(args.key))
        return _print(args, detail, lambda: _quarantined_detail(detail))
    page = client.get("/quarantine", limit=args.limit, source=args.source)

    def table() -> None:
        print(f"{'KEY':40}  {'RECEIVED':19}  {'TYPE':28}  REASON")
        for q in page["items"]:
            print(f"{_cell(q['key'], 40)}  {q['received_at'][:19]}  {_cell(q['vendor_type'], 28)}  {q['reason']}")
        more = "; more: --limit" if page.get("next_token") else ""
        print(f"({len(page['items'])} quarantined webhook{'s' * (len(page['items']) != 1)}{more})")

    return _print(args, page, table)


def _quarantined_detail(d: dict[str, Any]) -> None:
    for name in ("key", "status", "source", "vendor_type", "received_at", "reason", "correlation_id", "replayed_by",
                 "replayed_at", "raw_ref"):
        if d.get(name):
            print(f"{name:15} {d[name]}")
    print("raw body:")
    print(d["raw_body"])


def _replay(args: argparse.Namespace) -> int:
    client, path = _client(args), _key_path(args.key)
    if args.corrected:
        text = Path(args.corrected[1:]).read_text(encoding="utf-8") if args.corrected.startswith("@") \
            else args.corrected
        done = client.post(f"{path}/replay", {"event": json.loads(text), "note": args.note})
    else:
        done = client.post(f"{path}/renormalize", {"note": args.note})
    return _print(args, done, lambda: print(
        f"{done['key']}: {done['repair']} and replayed as {done['event_type']} {done['business_key']} "
        f"(run {done['correlation_id']}) by {done['replayed_by']}"))


# --- dead-letter queues -----------------------------------------------------------------------------------
def _dlq(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.queue:
        found = client.get(_path("dlqs", args.queue, "messages"), limit=args.limit)
        return _print(args, found, lambda: _letters(found))
    queues = client.get("/dlqs")

    def table() -> None:
        print(f"{'QUEUE':44}  {'DEPTH':>5}  {'OLDEST':>7}  SOURCE")
        for q in queues:
            age = "-" if q["oldest_age_seconds"] is None else f"{q['oldest_age_seconds']}s"
            sources = ", ".join(s.rsplit("/", 1)[-1] for s in q["source_queues"]) or "-"
            print(f"{_cell(q['name'], 44)}  {q['depth']:>5}  {age:>7}  {sources}")
        print(f"({len(queues)} dead-letter queues, {sum(q['depth'] for q in queues)} messages)")

    return _print(args, queues, table)


def _letters(found: dict[str, Any]) -> None:
    print(f"{'MESSAGE_ID':38}  {'SENT':19}  {'ERROR':22}  {'TRIES':>5}  REASON")
    for m in found["messages"]:
        reason = m["reason"]
        tries = reason.get("attempts") or reason.get("receive_count") or ""
        print(f"{_cell(m['message_id'], 38)}  {(m['sent_at'] or '')[:19]:19}  {_cell(reason['error_type'], 22)}  "
              f"{tries!s:>5}  {_cell(reason['error'], 80).rstrip()}")
    print(f"({found['depth']} in {found['queue']}; {len(found['messages'])} shown)")


def _redrive(args: argparse.Namespace) -> int:
    done = _client(args).post(_path("dlqs", args.queue, "redrive"),
                              {"message_id": args.message, "note": args.note} if args.message else {"note": args.note})
    moved = "a move task" if done["moved"] is None else f"{done['moved']} message{'s' * (done['moved'] != 1)}"
    return _print(args, done, lambda: print(f"{done['queue']}: {moved} redriven to {done['destination']} "
                                            f"({done['method']}); {done['left']} left"))


def _purge(args: argparse.Namespace) -> int:
    done = _client(args).post(_path("dlqs", args.queue, "purge"), {"confirm": args.confirm, "note": args.note})
    return _print(args, done, lambda: print(f"{done['queue']}: {done['purged']} messages purged, "
                                            f"{done['closed_exceptions']} exceptions closed"))


# --- archive, outbox ---------------------------------------------------------------------------------------
def _archive_replay(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.status:
        found = client.get(_path("archive-replays", args.status))
        return _print(args, found, lambda: print(f"{found['replay_name']}: {found['state']} "
                                                 f"{found.get('state_reason') or ''}".rstrip()))
    if not (args.event_type and args.start and args.end):
        raise ValueError("archive-replay needs EVENT_TYPE --from ISO --to ISO (or --status REPLAY_NAME)")
    started = client.post("/archive-replays", {"event_type": args.event_type, "start": args.start, "end": args.end,
                                               "note": args.note})

    def say() -> None:
        print(f"{started['replay_name']}: {started['state']} via {', '.join(started['rules'])}")
        if started["also_replays"]:
            print(f"  also replays (same rules): {', '.join(started['also_replays'])}")

    return _print(args, started, say)


def _sweep(args: argparse.Namespace) -> int:
    done = _client(args).post("/outbox/sweep", {"note": args.note})
    return _print(args, done, lambda: print(
        f"outbox swept: {done['found']} found, {done['published']} published, {done['settled']} mapped to "
        f"quarantined or ignored, {done['skipped']} unpublishable (quarantined), "
        f"{done['left']} left{'' if done['complete'] else ' (incomplete: sweep again)'}"))


# --- history ------------------------------------------------------------------------------------------------
def _timeline(args: argparse.Namespace) -> int:
    found = _client(args).get(_path("timeline", args.subject, args.id))

    def table() -> None:
        for e in found["entries"]:
            print(f"{e['at'][:23]:23}  {e['kind']:15} {_cell(e['system'], 14)}  {e['summary']}")
        notes = [f"{len(found['entries'])} entries"] + (["truncated"] if found["truncated"] else []) + \
            ([f"unavailable: {', '.join(found['unavailable'])}"] if found["unavailable"] else [])
        print(f"({'; '.join(notes)})")

    return _print(args, found, table)
