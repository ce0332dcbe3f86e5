"""`python -m bot kb workdays …`: show the working-day data's coverage, or write it from chinese-calendar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge import workdays


def register(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("workdays", parents=parents, help="the working-day calendar data (workdays.toml)")
    cmd.add_argument("--file", type=Path, default=None, help="the data file (default: knowledge/data/workdays.toml)")
    cmd.set_defaults(func=cmd_show)
    actions = cmd.add_subparsers(dest="workdays_command", metavar="ACTION")
    imp = actions.add_parser(
        "import", parents=parents, help="write the file for FIRST–LAST from the installed chinese-calendar"
    )
    imp.add_argument("first", type=int, metavar="FIRST")
    imp.add_argument("last", type=int, metavar="LAST")
    imp.add_argument("--file", type=Path, default=None, help="where to write (default: the data file)")
    imp.set_defaults(func=cmd_import)


def cmd_show(args: argparse.Namespace) -> int:
    try:
        years = workdays.load(args.file)
    except workdays.WorkdaysError as exc:
        print(exc, file=sys.stderr)
        return 1
    if not years:
        print("workdays.toml lists no years: every year comes from the libraries or counts Monday to Friday")
        return 0
    summary = workdays.describe(years)
    print(
        f"workdays.toml covers {min(years)}–{max(years)}: {summary['days_off']} days off, "
        f"{summary['makeup_days']} make-up working days"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.first > args.last:
        print(f"FIRST ({args.first}) is after LAST ({args.last})", file=sys.stderr)
        return 2
    try:
        text = workdays.render_from_chinese_calendar(args.first, args.last)
    except ValueError as exc:
        print(f"{exc}; leave the year out until its notice is published", file=sys.stderr)
        return 1
    _years, problems = workdays.check_text(text)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    path = args.file or workdays.default_path()
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({args.first}–{args.last})")
    return 0
