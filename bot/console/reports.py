"""Report pages: the filtered list, the case page, staff actions, the identity reveal and photos.

Who may do what: anyone who may see a case (see ``queries``) may read it and add internal notes; status
changes, transfers and re-routing belong to the handling department and to admins; only admins reveal a
real-name reporter, and each reveal is written to the audit log before the name is shown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import texts
from bot.console.catalog import category_codes, category_name
from bot.console.clock_card import clock_context
from bot.console.common import (
    client_ip,
    console_of,
    current_staff,
    fail,
    form_data,
    photo_token,
    read_photo_token,
    redirect,
    render,
    require_admin,
    require_staff,
    session_of,
)
from bot.console.photos import photo_file, photo_media_type
from bot.console.queries import (
    SORTS,
    FilterError,
    ReportFilters,
    can_see,
    department_names,
    page_of_reports,
    parse_filters,
    valid_case_no,
    visible_report,
)
from bot.console.replies import apply_reply_templates
from bot.reports import catalog, present
from bot.reports import workflow as domain
from bot.reports.geo import routing_targets
from bot.reports.notice_log import case_notices
from bot.scrub import scrub
from storage import report_queries
from storage.models.reports import Report
from storage.report_queries import ReportNotFound
from storage.staff import StaffInfo, audit_entries, record_audit

log = logging.getLogger(__name__)

FIELD_MAX = {
    "note": domain.MAX_NOTE_CHARS,
    "public_reply": domain.MAX_NOTE_CHARS,
    "reason": domain.MAX_NOTE_CHARS,
    "competent_authority": 128,
    "duplicate_of": 32,
    "department": 64,
    "county": 32,
    "public_summary": domain.MAX_NOTE_CHARS,
}
ACTION_TARGETS = {
    "accept": "accepted",
    "reject": "rejected",
    "duplicate": "duplicate",
    "investigate": "investigating",
    "resolve": "resolved",
    "close": "closed",
}


def can_act(staff: StaffInfo, report: Report) -> bool:
    """Status changes and routing belong to the handling department (and admins)."""
    return staff.is_admin or report.department == staff.department


def available_actions(staff: StaffInfo, report: Report) -> list[str]:
    actions: list[str] = []
    if can_act(staff, report):
        allowed = catalog.TRANSITIONS.get(report.status, frozenset())
        actions = [action for action, target in ACTION_TARGETS.items() if target in allowed]
        if report.status in catalog.OPEN_STATUSES:
            actions += ["transfer", "county"]
    actions.append("note")
    return actions


async def home(request: web.Request) -> web.Response:
    if current_staff(request) is None:
        return redirect("/console/login")
    return redirect("/console/reports")


# ---- list -------------------------------------------------------------------------------------------


def _filters_or_400(request: web.Request) -> ReportFilters:
    try:
        return parse_filters(request.query, category_codes())
    except FilterError as exc:
        raise fail(400, texts.BAD_FILTER.format(what=exc)) from None


def _choices() -> dict[str, Any]:
    return {
        "statuses": list(texts.STATUS_LABELS.items()),
        "categories": [(code, category_name(code)) for code in category_codes()],
        "counties": list(routing_targets()),
        "departments": department_names(),
        "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
    }


async def report_list(request: web.Request) -> web.Response:
    staff = require_staff(request)
    filters = _filters_or_400(request)
    console = console_of(request)
    page_size = console.config.page_size
    async with console.services.database.session() as db:
        rows, total = await page_of_reports(db, staff, filters, page_size=page_size)
    pages = max(1, -(-total // page_size))
    query = urlencode(filters.query_pairs())
    return render(
        request,
        "reports.html",
        {
            "filters": filters,
            "rows": rows,
            "total": total,
            "page": filters.page,
            "pages": pages,
            "prev_url": _page_url(filters, filters.page - 1) if filters.page > 1 else "",
            "next_url": _page_url(filters, filters.page + 1) if filters.page < pages else "",
            "export_query": query,
            "category_name": category_name,
            **_choices(),
        },
    )


def _page_url(filters: ReportFilters, page: int) -> str:
    query = urlencode(filters.query_pairs(page=page))
    return f"/console/reports?{query}" if query else "/console/reports"


# ---- case page --------------------------------------------------------------------------------------


def _case_no(request: web.Request) -> str:
    case_no = request.match_info["case_no"]
    if not valid_case_no(case_no):
        raise fail(404, texts.BAD_CASE_NO)
    return case_no


async def _visible_or_404(db: Any, staff: StaffInfo, case_no: str) -> Report:
    report = await visible_report(db, staff, case_no)
    if report is None:
        raise fail(404, texts.NOT_FOUND_CASE.format(case_no=case_no))
    return report


def map_link(request: web.Request, report: Report) -> str:
    if report.latitude is None or report.longitude is None:
        return ""
    template = console_of(request).config.map_link_template
    label = quote((report.address or report.case_no or "")[:60], safe="")
    try:
        return template.format(lat=f"{report.latitude:.6f}", lon=f"{report.longitude:.6f}", label=label)
    except (KeyError, IndexError, ValueError):
        log.warning("[console] map_link_template cannot be filled in; no map link shown")
        return ""


async def _case_context(request: web.Request, db: Any, staff: StaffInfo, report: Report) -> dict[str, Any]:
    assert report.case_no is not None
    photos = [
        {
            "position": photo.position,
            "status": photo.status,
            "url": f"/console/photos/{photo_token(request, report.case_no, photo.id)}" if photo.stored else "",
            "size_kb": round((photo.size or 0) / 1024),
        }
        for photo in report.photos
    ]
    linked = await report_queries.linked_reports(db, report.case_no)
    reveals = []
    if staff.is_admin and report.real_name:
        reveals = await audit_entries(db, case_no=report.case_no, action="reveal_identity", limit=20)
    context: dict[str, Any] = {
        **await clock_context(request, db, report, may_act=can_act(staff, report)),
        "reply_templates": {},
        "chosen_reply": "",
        "report": report,
        "category": category_name(report.category),
        "map_url": map_link(request, report),
        "photos": photos,
        "events": list(report.events),
        "notices": await case_notices(db, report.case_no),
        "reporter": present.reporter_masked(report),
        "actions": available_actions(staff, report),
        "can_act": can_act(staff, report),
        "linked": [r.case_no for r in linked],
        "departments": [name for name in department_names() if name != report.department],
        "counties": list(routing_targets()),
        "revealed": None,
        "reveals": reveals,
        "summary_draft": scrub(report.description),
        "form": {},
        "open_action": "",
        "error": "",
    }
    apply_reply_templates(request, report, context)
    return context


async def report_page(request: web.Request) -> web.Response:
    staff = require_staff(request)
    case_no = _case_no(request)
    console = console_of(request)
    async with console.services.database.session() as db:
        report = await _visible_or_404(db, staff, case_no)
        context = await _case_context(request, db, staff, report)
    return render(request, "report.html", context)


# ---- actions ----------------------------------------------------------------------------------------


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    limit = FIELD_MAX[name]
    if len(value) > limit:
        raise _InvalidInput(texts.FIELD_TOO_LONG.format(field=texts.FIELD_LABELS[name], limit=limit))
    return value


class _InvalidInput(ValueError):
    pass


def _check_required(action: str, form: dict[str, str], report: Report) -> dict[str, str]:
    values = {name: _field(form, name) for name in FIELD_MAX}
    if action == "reject" and not (values["reason"] and values["competent_authority"]):
        raise _InvalidInput(texts.NEED_REASON)
    if action == "resolve" and not values["public_reply"]:
        raise _InvalidInput(texts.NEED_REPLY)
    if action == "accept" and not values["public_summary"]:
        raise _InvalidInput(texts.NEED_SUMMARY)
    if action == "note" and not values["note"]:
        raise _InvalidInput(texts.NEED_NOTE)
    if action == "duplicate":
        target = report_queries.normalize_case_no(values["duplicate_of"])
        if not target:
            raise _InvalidInput(texts.NEED_DUPLICATE_OF)
        if target == report.case_no:
            raise _InvalidInput(texts.DUPLICATE_SELF)
        values["duplicate_of"] = target
    if action == "transfer":
        if not values["department"]:
            raise _InvalidInput(texts.NEED_DEPARTMENT)
        if values["department"] not in department_names():
            raise _InvalidInput(texts.UNKNOWN_DEPARTMENT.format(department=values["department"]))
        if values["department"] == report.department:
            raise _InvalidInput(texts.SAME_DEPARTMENT.format(department=report.department))
    if action == "county" and values["county"] not in routing_targets():
        raise _InvalidInput(texts.UNKNOWN_COUNTY)
    return values


async def _perform(
    db: Any, request: web.Request, staff: StaffInfo, report: Report, action: str, values: dict[str, str]
) -> str:
    services = console_of(request).services
    now = services.now()
    case_no = report.case_no or ""
    actor = staff.username
    if action in ACTION_TARGETS:
        note = values["note"]
        if action == "resolve" and not note:
            note = values["public_reply"]
        await domain.change_status(
            db,
            services,
            case_no,
            ACTION_TARGETS[action],
            actor=actor,
            note=note,
            public_reply=values["public_reply"] if action == "resolve" else "",
            reason=values["reason"],
            competent_authority=values["competent_authority"],
            duplicate_of=values["duplicate_of"] or None,
            may_link=lambda target: can_see(staff, target),
            public_summary=values["public_summary"] if action == "accept" else None,
            now=now,
        )
    elif action == "transfer":
        await domain.transfer(db, services, case_no, values["department"], actor=actor, note=values["note"], now=now)
    elif action == "county":
        await domain.set_county(db, services, case_no, values["county"], actor=actor, note=values["note"], now=now)
    else:
        await domain.add_internal_note(db, case_no, values["note"], actor=actor, now=now)
    detail = {k: v for k, v in values.items() if v and k in {"department", "county", "duplicate_of"}}
    await record_audit(
        db, actor=actor, action=f"report_{action}", case_no=case_no, ip=client_ip(request), now=now, detail=detail
    )
    message = texts.ACTION_DONE.get(action, texts.ACTION_DONE["note"])
    return message.format(case_no=case_no, department=values["department"], county=values["county"])


async def report_action(request: web.Request) -> web.Response:
    staff = require_staff(request)
    case_no = _case_no(request)
    form = form_data(request)
    action = form.get("action", "")
    console = console_of(request)
    async with console.services.database.session() as db:
        report = await _visible_or_404(db, staff, case_no)
        if action not in {*ACTION_TARGETS, "transfer", "county", "note"}:
            raise fail(400, texts.ACTION_UNKNOWN)
        if action not in available_actions(staff, report):
            if action != "note" and not can_act(staff, report):
                raise fail(403)
            return await _redisplay(
                request,
                db,
                staff,
                report,
                form,
                action,
                texts.ACTION_NOT_NOW.format(status=texts.STATUS_LABELS.get(report.status, report.status)),
            )
        try:
            values = _check_required(action, form, report)
            message = await _perform(db, request, staff, report, action, values)
        except (_InvalidInput, domain.ReportError, ReportNotFound) as exc:
            await db.rollback()
            report = await _visible_or_404(db, staff, case_no)
            return await _redisplay(request, db, staff, report, form, action, texts.reason(exc))
        await db.commit()
    session_of(request).flash(message)
    return redirect(f"/console/reports/{case_no}")


async def _redisplay(
    request: web.Request, db: Any, staff: StaffInfo, report: Report, form: dict[str, str], action: str, error: str
) -> web.Response:
    """The case page again with the error and what was typed, so nothing is lost (status 400)."""
    context = await _case_context(request, db, staff, report)
    context.update(
        form={k: v[: FIELD_MAX[k] * 2] for k, v in form.items() if k in FIELD_MAX},
        open_action=action,
        error=texts.ACTION_FAILED.format(reason=error),
    )
    return render(request, "report.html", context, status=400)


# ---- identity reveal --------------------------------------------------------------------------------


async def reveal_identity(request: web.Request) -> web.Response:
    staff = require_admin(request)
    case_no = _case_no(request)
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        report = await _visible_or_404(db, staff, case_no)
        if not report.real_name:
            session_of(request).flash(texts.NOT_REAL_NAME, "warning")
            return redirect(f"/console/reports/{case_no}")
        await record_audit(
            db, actor=staff.username, action="reveal_identity", case_no=case_no, ip=client_ip(request), now=now
        )
        await db.commit()
        context = await _case_context(request, db, staff, report)
    context["revealed"] = {"name": report.reporter_name, "phone": report.reporter_phone}
    session_of(request).flash(texts.REVEALED, "warning")
    return render(request, "report.html", context)


# ---- photos -----------------------------------------------------------------------------------------


async def photo(request: web.Request) -> web.StreamResponse:
    """A stored photo, for logged-in staff who may see its case; 401 without a session (no redirect)."""
    staff = current_staff(request)
    if staff is None:
        raise fail(401)
    case_no, photo_id = read_photo_token(request, request.match_info["token"])
    console = console_of(request)
    async with console.services.database.session() as db:
        report = await _visible_or_404(db, staff, case_no)
        match = next((p for p in report.photos if p.id == photo_id and p.stored and p.sha256), None)
    if match is None or match.sha256 is None:
        raise fail(404)
    data = await asyncio.to_thread(_read_photo, console.services.config, match.sha256)
    if data is None:
        raise fail(404)
    return web.Response(
        body=data,
        content_type=photo_media_type(match.content_type, data),
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="{case_no}-{match.position}"',
        },
    )


def _read_photo(config: Any, sha256: str) -> bytes | None:
    path = photo_file(config, sha256)
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None
