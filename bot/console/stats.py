"""The 统计 page: case and task figures with SVG charts, filterable by period, county and department,
and their download as XLSX or CSV. Scoped like the case list: a department sees the figures of the
cases it may open and of its own tasks; an admin sees the whole city.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from bot import texts
from bot.cases.clock import ClockConfigError, clock_rules, local_day
from bot.console.common import client_ip, console_of, fail, render, require_staff
from bot.console.exports import LOCAL_TZ, attachment, export_format, to_csv
from bot.console.queries import FilterError, _parse_date, department_names, visible_clause
from bot.reports.geo import routing_targets
from bot.stats import report as stats_report
from bot.stats import svg
from bot.stats.figures import Figures, StatsFilters, compute
from storage.staff import StaffInfo, record_audit

MAX_YEARS = 5


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    month = today.month - 11
    year = today.year
    if month < 1:
        month += 12
        year -= 1
    return date(year, month, 1), today


def parse_stats_filters(query: MultiDictProxy[str], today: date) -> StatsFilters:
    def one(name: str, limit: int = 100) -> str:
        value = query.get(name, "").strip()
        if len(value) > limit:
            raise FilterError(texts.FILTER_TOO_LONG.format(name=name))
        return value

    first, last = default_period(today)
    date_from = _parse_date(one("date_from", 32), texts.DATE_FROM_LABEL) or first
    date_to = _parse_date(one("date_to", 32), texts.DATE_TO_LABEL) or last
    if date_from > date_to:
        raise FilterError(texts.DATES_REVERSED)
    if date_to - date_from > timedelta(days=366 * MAX_YEARS):
        raise FilterError(texts.STATS_PERIOD_TOO_LONG.format(years=MAX_YEARS))
    county = one("county")
    if county and county not in routing_targets():
        raise FilterError(texts.FILTER_UNKNOWN["county"].format(value=county))
    department = one("department")
    if department and department not in department_names():
        raise FilterError(texts.FILTER_UNKNOWN["department"].format(value=department))
    return StatsFilters(date_from=date_from, date_to=date_to, county=county, department=department)


def stats_file(figures: Figures, scope: str, fmt: str) -> bytes:
    """The figures as an XLSX workbook or one CSV table (also the monthly report's file)."""
    if fmt == "xlsx":
        return stats_report.to_xlsx(figures, scope)
    return to_csv(texts.STATS_CSV_COLUMNS, stats_report.csv_rows(figures, scope))


def scope_label(staff: StaffInfo | None) -> str:
    return texts.STATS_SCOPE_ALL if staff is None or staff.is_admin else staff.department


async def _figures(request: web.Request, staff: StaffInfo) -> Figures:
    console = console_of(request)
    now = console.services.now()
    try:
        filters = parse_stats_filters(request.query, local_day(now))
    except FilterError as exc:
        raise fail(400, texts.BAD_FILTER.format(what=exc)) from None
    try:
        rules = clock_rules(console.services.config)
    except ClockConfigError as exc:
        raise fail(500, str(exc)) from None
    async with console.services.database.session() as db:
        return await compute(
            db,
            rules,
            filters,
            visible=visible_clause(staff),
            task_department=None if staff.is_admin else staff.department,
            now=now,
        )


def charts(figures: Figures) -> dict[str, str]:
    names = texts.STATS_SECTIONS
    return {
        "month": svg.column_chart(names["month"], figures.by_month),
        "county": svg.bar_chart(names["county"], figures.by_county),
        "category": svg.bar_chart(names["category"], figures.by_category, label_width=190),
        "status": svg.bar_chart(names["status"], figures.by_status),
        "tasks": svg.stacked_bar_chart(
            names["tasks"],
            [(t.department, (t.done, t.open, t.overdue)) for t in figures.tasks],
            texts.STATS_TASK_COLUMNS[1:],
        ),
        "questions": svg.stacked_bar_chart(
            names["questions"],
            [(week, (asked - refused, refused)) for week, asked, refused in figures.questions],
            texts.STATS_QUESTION_SERIES,
            colours=("#2f6f9f", "#c0392b"),
            label_width=90,
        ),
    }


async def stats_page(request: web.Request) -> web.Response:
    staff = require_staff(request)
    figures = await _figures(request, staff)
    query = urlencode(figures.filters.query_pairs())
    return render(
        request,
        "stats.html",
        {
            "figures": figures,
            "charts": charts(figures),
            "filters": figures.filters,
            "counties": list(routing_targets()),
            "departments": department_names(),
            "scope": scope_label(staff),
            "export_query": query,
            "summary": stats_report.summary_rows(figures, scope_label(staff)),
            "section_titles": texts.STATS_SECTIONS,
            "no_data": texts.STATS_NO_DATA,
            "questions_hint": texts.STATS_QUESTIONS_HINT,
        },
    )


async def stats_export(request: web.Request) -> web.Response:
    staff = require_staff(request)
    fmt = export_format(request)
    figures = await _figures(request, staff)
    console = console_of(request)
    now: datetime = console.services.now()
    async with console.services.database.session() as db:
        await record_audit(
            db,
            actor=staff.username,
            action="export_stats",
            ip=client_ip(request),
            now=now,
            detail={"format": fmt, "filters": dict(figures.filters.query_pairs())},
        )
        await db.commit()
    body = stats_file(figures, scope_label(staff), fmt)
    stamp = now.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return attachment(fmt, f"stats-{stamp}", body)
