"""status: schema version, queue depths, last scheduler ticks, calendar coverage, knowledge version."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli.common import open_services, print_json
from bot.questions.edits import current_version
from bot.reminders.coverage import covered_until_iso
from knowledge.version import data_version
from storage.job_ticks import last_ticks
from storage.migrate import current_heads, expected_heads
from storage.queues import queue_depths


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    status = subparsers.add_parser(
        "status", parents=parents, help="schema, queue depths, last job runs, calendar coverage, knowledge version"
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)


async def collect(args: argparse.Namespace) -> dict[str, Any]:
    async with open_services(args, migrate=False) as services:
        now = services.now()
        current = await current_heads(services.database)
        expected = expected_heads()
        ticks = await last_ticks(services.database) if current == expected else []
        async with services.database.session() as session:
            depths = await queue_depths(session) if current == expected else None
            published = await current_version(session) if current == expected else None
        version, files = data_version()
        return {
            "schema": {"current": sorted(current), "expected": sorted(expected), "up_to_date": current == expected},
            "sandbox": services.config.uses_sandbox,
            "outbox": [
                {"status": status, "purpose": purpose, "rows": n}
                for (status, purpose), n in sorted(depths.outbox.items())
            ]
            if depths
            else [],
            "outbox_oldest_pending_seconds": round(depths.oldest_pending_age(now), 1) if depths else None,
            "reminder_messages": depths.reminder_messages if depths else {},
            "reminder_deliveries": depths.reminder_deliveries if depths else {},
            "jobs": [
                {
                    "name": t.name,
                    "last_finished_at": t.last_finished_at,
                    "seconds_ago": round((now - t.last_finished_at).total_seconds(), 1),
                    "last_error": t.last_error,
                    "last_failed_at": t.last_failed_at,
                }
                for t in ticks
            ],
            "calendar_covered_until": covered_until_iso(services),
            "knowledge_version": version,
            "knowledge_files": files,
            "knowledge_published_version": published,
        }


def cmd_status(args: argparse.Namespace) -> int:
    report = asyncio.run(collect(args))
    if args.json:
        print_json(report)
        return 0 if report["schema"]["up_to_date"] else 1
    schema = report["schema"]
    state = "up to date" if schema["up_to_date"] else "behind: run `python -m bot db upgrade`"
    print(f"schema        {', '.join(schema['current']) or '(empty)'} — {state}")
    print(f"mode          {'sandbox' if report['sandbox'] else 'WeChat API'}")
    queued = ", ".join(f"{o['status']}/{o['purpose'] or '-'} {o['rows']}" for o in report["outbox"]) or "empty"
    print(f"outbox        {queued}; oldest pending {report['outbox_oldest_pending_seconds'] or 0:.0f} s")
    for key, label in (("reminder_messages", "reminders"), ("reminder_deliveries", "deliveries")):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report[key].items())) or "none"
        print(f"{label:<14}{counts}")
    if not report["jobs"]:
        print("jobs          no run recorded (is a `serve` process with the scheduler running?)")
    for job in report["jobs"]:
        failed = (
            f"; last failure {job['last_failed_at']:%Y-%m-%d %H:%M}: {job['last_error']}" if job["last_error"] else ""
        )
        print(f"job {job['name']:<10}last run {job['seconds_ago']:.0f} s ago{failed}")
    until = report["calendar_covered_until"]
    print(f"calendar      {'covered until ' + until if until else 'NOT covered today: counting Monday to Friday'}")
    published = report["knowledge_published_version"]
    print(f"knowledge     data {report['knowledge_version']} ({report['knowledge_files']} files); "
          f"published version {published if published is not None else '?'}")  # fmt: skip
    return 0 if schema["up_to_date"] else 1
