"""Case deadlines in the console: the 办理时限 list (open cases by time left, overdue first), the clock
on a case page, and extending a case's completion deadline (handling department or admin, with a reason).
Scoped like the case list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import and_

from bot import texts
from bot.cases.clock import ClockRules, case_clock
from bot.cases.extensions import ExtensionError, extend
from bot.cases.times import load_timed_cases
from bot.cases.view import view_of
from bot.console.catalog import category_name
from bot.console.clock_card import rules_of
from bot.console.common import client_ip, console_of, fail, form_data, redirect, render, require_staff, session_of
from bot.console.queries import visible_clause
from bot.console.reports import _case_context, _case_no, _visible_or_404, can_act
from bot.reports.catalog import OPEN_STATUSES
from storage.models.reports import Report
from storage.staff import StaffInfo, record_audit


async def open_cases_by_time_left(db: Any, staff: StaffInfo, rules: ClockRules, now: datetime) -> list[dict[str, Any]]:
    where = and_(visible_clause(staff), Report.status.in_(sorted(OPEN_STATUSES)))
    rows = []
    for case in await load_timed_cases(db, where):
        clock = case_clock(case.times, rules, now)
        if clock.due_at is None:
            continue
        rows.append(
            {
                "case_no": case.case_no,
                "category": category_name(case.category),
                "county": case.county or texts.STATS_UNROUTED,
                "department": case.department,
                "status": case.status,
                "clock": view_of(clock, now),
            }
        )
    rows.sort(key=lambda r: (r["clock"].left_seconds, r["case_no"]))
    return rows


async def deadlines_page(request: web.Request) -> web.Response:
    staff = require_staff(request)
    console = console_of(request)
    rules = rules_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        rows = await open_cases_by_time_left(db, staff, rules, now)
    return render(
        request,
        "deadlines.html",
        {
            "rows": rows,
            "overdue": sum(1 for r in rows if r["clock"].overdue),
            "default_rule": rules.default,
            "category_rules": [(category_name(code), rule) for code, rule in rules.by_category.items()],
        },
    )


async def extend_deadline(request: web.Request) -> web.Response:
    staff = require_staff(request)
    case_no = _case_no(request)
    form = form_data(request)
    console = console_of(request)
    rules = rules_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        report = await _visible_or_404(db, staff, case_no)
        if not can_act(staff, report):
            raise fail(403)
        try:
            extension = await extend(
                db,
                report,
                rules,
                days_text=form.get("days", "")[:12],
                reason=form.get("reason", "")[:2000],
                actor=staff.username,
                now=now,
            )
        except ExtensionError as exc:
            await db.rollback()
            report = await _visible_or_404(db, staff, case_no)
            context = await _case_context(request, db, staff, report)
            context.update(
                form={"days": form.get("days", "")[:12], "reason": form.get("reason", "")[:2000]},
                open_action="extend",
                error=texts.ACTION_FAILED.format(reason=exc),
            )
            return render(request, "report.html", context, status=400)
        await record_audit(
            db,
            actor=staff.username,
            action="extend_deadline",
            case_no=case_no,
            ip=client_ip(request),
            now=now,
            detail={"days": extension.days},
        )
        await db.commit()
    session_of(request).flash(texts.CLOCK_EXTENDED.format(case_no=case_no, days=extension.days))
    return redirect(f"/console/reports/{case_no}")
