"""``python -m bot reports …``: violation reports for staff without the console.

list, show, set-status, transfer, set-county, note, fetch-photos. ``--json`` prints the shape of
``bot.reports.workflow.report_to_dict``; the reporter's identity is printed only with ``show --private``.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime
from typing import Any

from bot import texts
from bot.cli.common import fail, open_services, os_actor, print_json
from bot.reports import catalog, present
from bot.reports import workflow as api
from bot.reports.geo import routing_targets
from bot.reports.photos import run_media_job
from storage import report_queries
from storage.report_queries import ReportNotFound
from storage.staff import record_audit

# The audit action of each status change, as the console records it.
STATUS_ACTIONS = {
    "submitted": "report_status",
    "accepted": "report_accept",
    "rejected": "report_reject",
    "duplicate": "report_duplicate",
    "investigating": "report_investigate",
    "resolved": "report_resolve",
    "closed": "report_close",
}


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return number


def _default_actor() -> str:
    return os_actor()


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    reports = subparsers.add_parser("reports", parents=parents, help="violation reports from the public")
    sub = reports.add_subparsers(dest="reports_command", metavar="ACTION")
    sub.required = True

    listing = sub.add_parser("list", parents=parents, help="list reports, newest first")
    listing.add_argument("--json", action="store_true", help="one JSON document: {total, reports: [...]}")
    listing.add_argument("--status", choices=catalog.STATUSES)
    listing.add_argument("--category", choices=[c.code for c in catalog.categories()])
    listing.add_argument("--county", metavar="NAME", help="county-level unit, or - for reports awaiting routing")
    listing.add_argument("--department", metavar="NAME")
    listing.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="filed on or after this day (UTC)")
    listing.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="filed before this day (UTC)")
    listing.add_argument("--limit", type=_positive, default=50)
    listing.add_argument("--offset", type=_positive, default=0)
    listing.set_defaults(func=cmd_list)

    show = sub.add_parser("show", parents=parents, help="one report with its photos and history")
    show.add_argument("case", metavar="CASE")
    show.add_argument("--json", action="store_true")
    show.add_argument("--private", action="store_true", help="include the reporter's openid, name and phone")
    show.set_defaults(func=cmd_show)

    status = sub.add_parser("set-status", parents=parents, help="move a report to another status")
    status.add_argument("case", metavar="CASE")
    status.add_argument("status", metavar="STATUS", choices=catalog.STATUSES, help=", ".join(catalog.STATUSES))
    status.add_argument("--note", required=True, metavar="TEXT", help="what was done (the result, for resolved)")
    status.add_argument("--reply", default="", metavar="TEXT", help="the reply the reporter sees")
    status.add_argument("--reason", default="", metavar="TEXT", help="why not accepted (rejected)")
    status.add_argument("--authority", default="", metavar="NAME", help="who is competent instead (rejected)")
    status.add_argument("--duplicate-of", default=None, metavar="CASE", help="the original case (duplicate)")
    status.add_argument(
        "--public-summary",
        default=None,
        metavar="TEXT",
        help="accepted: the summary Open311 publishes (without one the case is not published)",
    )
    status.add_argument("--actor", default=None, metavar="NAME", help="recorded in the history (default cli:USER)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_set_status)

    transfer = sub.add_parser("transfer", parents=parents, help="hand a report to another department")
    transfer.add_argument("case", metavar="CASE")
    transfer.add_argument("department", metavar="DEPARTMENT")
    transfer.add_argument("--note", required=True, metavar="TEXT")
    transfer.add_argument("--actor", default=None, metavar="NAME")
    transfer.set_defaults(func=cmd_transfer)

    county = sub.add_parser("set-county", parents=parents, help="route a report to a county-level unit")
    county.add_argument("case", metavar="CASE")
    county.add_argument("county", metavar="COUNTY", choices=routing_targets(), help=", ".join(routing_targets()))
    county.add_argument("--note", default="", metavar="TEXT")
    county.add_argument("--actor", default=None, metavar="NAME")
    county.set_defaults(func=cmd_set_county)

    note = sub.add_parser("note", parents=parents, help="add an internal note (never shown to the reporter)")
    note.add_argument("case", metavar="CASE")
    note.add_argument("text", metavar="TEXT")
    note.add_argument("--actor", default=None, metavar="NAME")
    note.set_defaults(func=cmd_note)

    fetch = sub.add_parser("fetch-photos", parents=parents, help="run the photo download job once now")
    fetch.add_argument("--json", action="store_true")
    fetch.set_defaults(func=cmd_fetch_photos)


# ---- output --------------------------------------------------------------------------------------


def _row(report: Any) -> str:
    county = report.county or "（待定）"
    photos = f"{sum(p.stored for p in report.photos)}/{len(report.photos)}"
    return (
        f"{report.case_no}  {report.created_at:%Y-%m-%d %H:%M}Z  {report.status:<13} {report.category:<16} "
        f"{report.department}  {county}  photos {photos}"
    )


def _print_report(data: dict[str, Any]) -> None:
    print(f"{data['case_no']}  {data['status']} ({data['status_label']})")
    print(f"  category:   {data['category']} ({data['category_label']})")
    print(f"  department: {data['department']}   county: {data['county'] or '(manual routing)'}")
    if data["routing_note"]:
        print(f"  routing:    {data['routing_note']}")
    if data["latitude"] is not None:
        print(f"  location:   {data['latitude']}, {data['longitude']} (GCJ-02)  {data['address']}")
    elif data["address"]:
        print(f"  address:    {data['address']}")
    print(f"  reporter:   {data['reporter']}")
    if "reporter_private" in data:
        private = data["reporter_private"]
        print(f"  (private)   openid {private['openid']}  name {private['name']}  phone {private['phone']}")
    if data["duplicate_of"]:
        print(f"  duplicate of {data['duplicate_of']}")
    print(f"  created:    {data['created_at']:%Y-%m-%d %H:%M:%S}Z")
    print(f"  description: {data['description']}")
    if data["reported_object"]:
        print(f"  reported object: {data['reported_object']}")
    for field in ("result", "public_reply", "reject_reason", "competent_authority"):
        if data[field]:
            print(f"  {field}: {data[field]}")
    print(f"  photos ({len(data['photos'])}, {data['photos_missing']} missing):")
    for photo in data["photos"]:
        detail = f"{photo['sha256']} {photo['size']} bytes" if photo["stored"] else (photo["last_error"] or "")
        print(f"    #{photo['position']} {photo['status']:<8} {detail}")
    print("  history:")
    for event in data["history"]:
        change = f"{event['from_status'] or ''}→{event['to_status']}" if event["to_status"] else event["kind"]
        line = f"    {event['at']:%Y-%m-%d %H:%M}Z {event['actor']}: {change}"
        if event["note"]:
            line += f" — {event['note']}"
        if event["public_reply"]:
            line += f" [reply: {event['public_reply']}]"
        print(line)


def _day_start(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


# ---- commands ------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    async def run() -> tuple[list[dict[str, Any]], list[str], int]:
        async with open_services(args) as services, services.database.session() as session:
            reports, total = await report_queries.list_reports(
                session,
                status=args.status,
                category=args.category,
                county=args.county,
                department=args.department,
                date_from=_day_start(args.since),
                date_to=_day_start(args.until),
                offset=args.offset,
                limit=args.limit,
            )
            return [present.report_to_dict(r) for r in reports], [_row(r) for r in reports], total

    data, rows, total = asyncio.run(run())
    if args.json:
        print_json({"total": total, "offset": args.offset, "reports": data})
        return 0
    for row in rows:
        print(row)
    print(f"{len(rows)} of {total} report(s)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any] | None:
        async with open_services(args) as services, services.database.session() as session:
            report = await report_queries.get_report(session, args.case)
            if report is None:
                return None
            if args.private:  # the reveal is recorded before the identity is printed
                detail = {"via": "cli", "real_name": report.real_name}
                await record_audit(
                    session,
                    actor=os_actor(),
                    action="reveal_identity",
                    case_no=report.case_no,
                    now=services.now(),
                    detail=detail,
                )
                await session.commit()
            return present.report_to_dict(report, include_private=args.private)

    data = asyncio.run(run())
    if data is None:
        return fail(f"没有编号为 {args.case} 的举报 / no report {args.case}")
    if args.json:
        print_json(data)
    else:
        _print_report(data)
    return 0


def _run_change(args: argparse.Namespace, change: Any, action: str) -> int:
    """Run one change in a transaction, with its audit entry (actor: the OS user); a refused change
    prints its reason and exits 1."""

    async def run() -> dict[str, Any]:
        async with open_services(args) as services, services.database.session() as session:
            report = await change(session, services, services.now())
            detail = {"via": "cli"}
            if getattr(args, "actor", None):
                detail["as"] = args.actor
            for key in ("department", "county", "duplicate_of"):
                if getattr(args, key, None):
                    detail[key] = getattr(args, key)
            await record_audit(
                session, actor=os_actor(), action=action, case_no=report.case_no, now=services.now(), detail=detail
            )
            await session.commit()
            return present.report_to_dict(report)

    try:
        data = asyncio.run(run())
    except (api.ReportError, ReportNotFound) as exc:
        return fail(f"未修改 / not changed: {texts.reason(exc)}")
    if getattr(args, "json", False):
        print_json(data)
    else:
        print(
            f"{data['case_no']}: {data['status']} ({data['status_label']}), {data['department']}, "
            f"{data['county'] or '(manual routing)'}"
        )
    return 0


def cmd_set_status(args: argparse.Namespace) -> int:
    async def change(session: Any, services: Any, now: datetime) -> Any:
        return await api.change_status(
            session,
            services,
            args.case,
            args.status,
            actor=args.actor or _default_actor(),
            note=args.note,
            public_reply=args.reply,
            reason=args.reason,
            competent_authority=args.authority,
            duplicate_of=args.duplicate_of,
            public_summary=args.public_summary,
            now=now,
        )

    return _run_change(args, change, STATUS_ACTIONS[args.status])


def cmd_transfer(args: argparse.Namespace) -> int:
    async def change(session: Any, services: Any, now: datetime) -> Any:
        return await api.transfer(
            session, services, args.case, args.department, actor=args.actor or _default_actor(), note=args.note, now=now
        )

    return _run_change(args, change, "report_transfer")


def cmd_set_county(args: argparse.Namespace) -> int:
    async def change(session: Any, services: Any, now: datetime) -> Any:
        return await api.set_county(
            session, services, args.case, args.county, actor=args.actor or _default_actor(), note=args.note, now=now
        )

    return _run_change(args, change, "report_county")


def cmd_note(args: argparse.Namespace) -> int:
    async def change(session: Any, services: Any, now: datetime) -> Any:
        await api.add_internal_note(session, args.case, args.text, actor=args.actor or _default_actor(), now=now)
        return await report_queries.get_report(session, args.case)

    return _run_change(args, change, "report_note")


def cmd_fetch_photos(args: argparse.Namespace) -> int:
    async def run() -> dict[str, int]:
        async with open_services(args) as services:
            total: dict[str, int] = {}
            for _ in range(100):  # at most 2,000 photos per call; each pass takes up to 20
                result = await run_media_job(services)
                for key in ("stored", "retried", "failed", "expired", "rejected", "purged"):
                    total[key] = total.get(key, 0) + getattr(result, key)
                if result.handled == 0:
                    break
            return total

    totals = asyncio.run(run())
    if args.json:
        print_json(totals)
    else:
        print(", ".join(f"{key} {value}" for key, value in totals.items()))
    return 0
