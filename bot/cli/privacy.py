"""``python -m bot privacy …``: retention by hand and reporters' data requests.

purge [--dry-run] applies the ``[privacy]`` periods now (the daily housekeeping job does the same);
requests lists data requests; erase P<n> carries out a deletion request. Every purge and erasure is
written to the audit log with the OS user as actor.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli.common import fail, open_services, os_actor, print_json
from bot.privacy.requests import RequestError, carry_out_erasure, list_requests
from bot.privacy.retention import purge


def _request_id(value: str) -> int:
    text = value.strip().upper().removeprefix("P")
    if not text.isdigit() or len(text) > 12:
        raise argparse.ArgumentTypeError(f"not a request number such as P12: {value!r}")
    return int(text)


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    privacy = subparsers.add_parser("privacy", parents=parents, help="retention and reporters' data requests")
    sub = privacy.add_subparsers(dest="privacy_command", metavar="ACTION")
    sub.required = True

    purge = sub.add_parser("purge", parents=parents, help="apply the [privacy] retention periods now")
    purge.add_argument("--dry-run", action="store_true", help="show what would be masked or deleted; change nothing")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(func=cmd_purge)

    listing = sub.add_parser("requests", parents=parents, help="reporters' data requests, newest first")
    listing.add_argument("--status", choices=("open", "done"))
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_requests)

    erase = sub.add_parser("erase", parents=parents, help="carry out a deletion request")
    erase.add_argument("request", metavar="P<n>", type=_request_id)
    erase.add_argument("--json", action="store_true")
    erase.set_defaults(func=cmd_erase)


def cmd_purge(args: argparse.Namespace) -> int:
    async def run() -> Any:
        async with open_services(args) as services:
            return await purge(services, dry_run=args.dry_run, actor=os_actor())

    result = asyncio.run(run())
    if args.json:
        print_json(result.to_dict())
        return 0
    heading = "would change (dry run, nothing changed):" if args.dry_run else "changed:"
    print(heading)
    labels = {
        "identities": ("reporter identities masked", result.identities),
        "photo_cases": ("cases losing their photos", result.photo_cases),
        "locations": ("exact positions coarsened", result.locations),
    }
    for key, value in result.counts().items():
        label, cases = labels.get(key, (key.replace("_", " "), []))
        suffix = f"  ({', '.join(cases[:20])}{' …' if len(cases) > 20 else ''})" if cases else ""
        print(f"  {label}: {value}{suffix}")
    return 0


def cmd_requests(args: argparse.Namespace) -> int:
    async def run() -> list[dict[str, Any]]:
        async with open_services(args) as services, services.database.session() as session:
            rows = await list_requests(session, status=args.status)
            return [
                {
                    "request": f"P{r.id}",
                    "kind": r.kind,
                    "status": r.status,
                    "created_at": r.created_at,
                    "handled_at": r.handled_at,
                    "handled_by": r.handled_by,
                    "result": r.result,
                }
                for r in rows
            ]

    rows = asyncio.run(run())
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['request']}  {row['kind']:<8} {row['status']:<5} {row['created_at']:%Y-%m-%d %H:%M}")
        if not rows:
            print("no requests")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        async with open_services(args) as services, services.database.session() as session:
            done = await carry_out_erasure(session, args.request, actor=os_actor(), now=services.now())
            await session.commit()
            return {"request": f"P{done.id}", **done.result}

    try:
        result = asyncio.run(run())
    except RequestError as exc:
        state = "already carried out" if exc.done else "no such deletion request"
        return fail(f"P{args.request}: {state}")
    if args.json:
        print_json(result)
    else:
        print(
            f"{result['request']}: identity erased on {len(result['erased_cases'])} closed case(s); "
            f"{len(result['open_cases'])} open case(s) keep it until closed"
        )
    return 0
