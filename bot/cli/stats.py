"""``python -m bot stats report --month YYYY-MM --out FILE``: the monthly statistics for the whole city.

The file's format follows its name (``.xlsx`` or ``.csv``) unless ``--format`` says otherwise. The figures
are those of the console's 统计 page for that calendar month (local time), computed at the moment of the
run; ``--county`` and ``--department`` narrow them as the page's filters do.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path

from sqlalchemy import true

from bot import texts
from bot.cases.clock import ClockConfigError, clock_rules
from bot.cli.common import fail, open_services
from bot.console.queries import department_names
from bot.console.stats import stats_file
from bot.reports.geo import routing_targets
from bot.stats.figures import StatsFilters, compute, month_bounds


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    stats = subparsers.add_parser("stats", parents=parents, help="statistics for leaders")
    sub = stats.add_subparsers(dest="stats_command", metavar="ACTION")
    sub.required = True
    report = sub.add_parser("report", parents=parents, help="the monthly report as XLSX or CSV")
    report.add_argument("--month", required=True, metavar="YYYY-MM", help="the calendar month, e.g. 2026-11")
    report.add_argument("--out", required=True, metavar="FILE", help="where to write (.xlsx or .csv)")
    report.add_argument("--format", choices=("xlsx", "csv"), default=None, help="default: from the file name")
    report.add_argument("--county", default="", metavar="NAME")
    report.add_argument("--department", default="", metavar="NAME")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        return fail(texts.STATS_BAD_MONTH.format(value=args.month), 2)
    out = Path(args.out)
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        return fail(f"--out: the file name must end in .xlsx or .csv (or give --format): {out.name}", 2)
    if not out.parent.is_dir():
        return fail(f"--out: no such directory: {out.parent}", 2)
    return asyncio.run(_report(args, out, fmt))


async def _report(args: argparse.Namespace, out: Path, fmt: str) -> int:
    if args.county and args.county not in routing_targets():
        return fail(texts.FILTER_UNKNOWN["county"].format(value=args.county), 2)
    if args.department and args.department not in department_names():
        return fail(texts.FILTER_UNKNOWN["department"].format(value=args.department), 2)
    first, last = month_bounds(args.month)
    filters = StatsFilters(date_from=first, date_to=last, county=args.county, department=args.department)
    async with open_services(args) as services:
        try:
            rules = clock_rules(services.config)
        except ClockConfigError as exc:
            return fail(f"configuration error: {exc}", 2)
        async with services.database.session() as db:
            figures = await compute(db, rules, filters, visible=true(), task_department=None, now=services.now())
    body = stats_file(figures, texts.STATS_SCOPE_ALL, fmt)
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(body)
    partial.replace(out)
    print(f"{out}: {figures.total} cases, {len(figures.tasks)} departments with tasks ({args.month})")
    return 0
