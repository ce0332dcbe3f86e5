"""``python -m bot notices test --department NAME``: a real test notice to a department's bound contacts."""

from __future__ import annotations

import argparse
import asyncio
from zoneinfo import ZoneInfo

from bot import texts
from bot.cli.common import fail, open_services
from bot.reports.notice_trial import TrialResult, send_test_notice
from storage.contacts import DepartmentError


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("notices", parents=parents, help="notices to departments and reporters")
    sub = group.add_subparsers(dest="notices_command", metavar="ACTION")
    sub.required = True
    test = sub.add_parser("test", parents=parents, help="send a test notice to a department's bound contacts")
    test.add_argument("--department", required=True, help="the department's name (short forms accepted)")
    test.set_defaults(func=cmd_notices_test)


def cmd_notices_test(args: argparse.Namespace) -> int:
    async def run() -> list[TrialResult]:
        async with open_services(args) as services:
            zone = ZoneInfo(services.config.reminders.timezone)
            return await send_test_notice(services, args.department, services.now(), zone)

    try:
        results = asyncio.run(run())
    except DepartmentError as exc:
        return fail(str(exc))
    if not results:
        return fail(texts.NOTICE_TEST_NOBODY.format(department=args.department))
    for result in results:
        verdict = texts.NOTICE_TEST_ACCEPTED if result.accepted else texts.NOTICE_TEST_REFUSED
        print(f"{result.contact} ({result.channel}): {verdict} — {result.answer}")
    return 0 if all(r.accepted for r in results) else 1
