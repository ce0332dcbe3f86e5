"""Task pages: the plan's tasks with lead units, deadlines and per-department status, overdue first; a task's
reminders (sent, acknowledged); marking a task done for a department.

A department account sees the tasks assigned to its department (as lead, co-operating or local unit) and
only its own department's reminders; an admin sees every task and may filter by department.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from bot import texts
from bot.console.common import (
    client_ip,
    console_of,
    fail,
    form_data,
    period_label,
    redirect,
    render,
    require_staff,
    session_of,
)
from bot.console.queries import department_names
from bot.tasks.completion import deliveries_for_task, mark_done
from bot.tasks.planfile import TASK_ID
from bot.tasks.status import DepartmentStatus, TaskError, TaskView, list_tasks
from storage.contacts import DepartmentError
from storage.staff import StaffInfo

TASK_STATUSES = ("overdue", "open", "done")


def _task_filters(staff: StaffInfo, query: MultiDictProxy[str]) -> tuple[str, str | None]:
    status = query.get("status", "").strip()
    if status and status not in TASK_STATUSES:
        raise fail(400, texts.BAD_FILTER.format(what=texts.FILTER_UNKNOWN["task_status"].format(value=status[:20])))
    department: str | None = staff.department
    if staff.is_admin:
        department = query.get("department", "").strip() or None
        if department is not None and department not in department_names():
            what = texts.FILTER_UNKNOWN["department"].format(value=department[:64])
            raise fail(400, texts.BAD_FILTER.format(what=what))
    return status, department


async def load_tasks(db: Any, staff: StaffInfo, query: MultiDictProxy[str], *, now: datetime) -> list[TaskView]:
    status, department = _task_filters(staff, query)
    try:
        views = await list_tasks(db, department=department, now=now)
    except DepartmentError as exc:
        raise fail(400, texts.reason(exc)) from None
    return [view for view in views if not status or view.status == status]


async def task_list(request: web.Request) -> web.Response:
    staff = require_staff(request)
    console = console_of(request)
    now = console.services.now()
    status, department = _task_filters(staff, request.query)
    async with console.services.database.session() as db:
        views = await load_tasks(db, staff, request.query, now=now)
    pairs = [("status", status), ("department", department if staff.is_admin and department else "")]
    query = urlencode([(k, v) for k, v in pairs if v])
    return render(
        request,
        "tasks.html",
        {
            "tasks": views,
            "status": status,
            "department": department if staff.is_admin else "",
            "departments": department_names(),
            "statuses": [(s, texts.TASK_STATUS_LABELS[s]) for s in TASK_STATUSES],
            "export_query": query,
            "today": now,
        },
    )


def _task_id(request: web.Request) -> str:
    task_id = request.match_info["task_id"].strip().upper()
    if not TASK_ID.fullmatch(task_id):
        raise fail(404)
    return task_id


async def _visible_task(db: Any, staff: StaffInfo, task_id: str, now: datetime) -> TaskView:
    department = None if staff.is_admin else staff.department
    views = await list_tasks(db, department=department, now=now, include_inactive=staff.is_admin)
    view = next((v for v in views if v.id == task_id), None)
    if view is None:
        raise fail(404, texts.NOT_FOUND_TASK.format(task_id=task_id))
    return view


async def task_page(request: web.Request) -> web.Response:
    staff = require_staff(request)
    task_id = _task_id(request)
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        view = await _visible_task(db, staff, task_id, now)
        deliveries = await deliveries_for_task(db, task_id, limit=500)
    if not staff.is_admin:
        deliveries = [d for d in deliveries if d.department == staff.department]
    own = [d for d in view.departments if staff.is_admin or d.department == staff.department]
    can_mark = [d.department for d in own if d.status != "done"]
    # A department that finished the task's cycle already works on a later one: say which.
    own_current = None
    mark_period = view.cycle
    if not staff.is_admin and own and own[0].status == "done" and view.period != view.cycle:
        own_current = {
            "department": staff.department,
            "period": view.period,
            "due_date": view.due_date,
            "status": view.status,
        }
        if view.status != "done":
            can_mark, mark_period = [staff.department], view.period
    return render(
        request,
        "task.html",
        {
            "task": view,
            "deliveries": deliveries,
            "can_mark": can_mark,
            "own_current": own_current,
            "mark_period": mark_period,
        },
    )


async def task_done(request: web.Request) -> web.Response:
    staff = require_staff(request)
    task_id = _task_id(request)
    form = form_data(request)
    department = form.get("department", "").strip()[:64] or staff.department
    if not staff.is_admin and department != staff.department:
        raise fail(403)
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        await _visible_task(db, staff, task_id, now)
        try:
            result = await mark_done(
                db, task_id, department, actor=staff.username, now=now, via="console", ip=client_ip(request)
            )
        except (TaskError, DepartmentError) as exc:
            raise fail(400, texts.reason(exc)) from None
        await db.commit()
    message = texts.TASK_ALREADY_DONE if result.already else texts.TASK_MARKED_DONE
    session_of(request).flash(message.format(task_id=task_id, department=result.department))
    return redirect(f"/console/tasks/{task_id}")


# ---- export -----------------------------------------------------------------------------------------


async def load_task_rows(db: Any, staff: StaffInfo, query: MultiDictProxy[str], *, now: datetime) -> list[list[Any]]:
    """One row per task and assigned department, all on the task's cycle (only the account's own department
    for non-admins)."""
    status, department = _task_filters(staff, query)
    try:
        views = await list_tasks(db, department=department, now=now)
    except DepartmentError as exc:
        raise fail(400, texts.reason(exc)) from None
    rows: list[list[Any]] = []
    for view in views:
        for unit in view.departments:
            if department is not None and unit.department != department:
                continue
            if status and unit.status != status:
                continue
            rows.append(task_export_row(view, unit))
    return rows


def task_export_row(view: TaskView, unit: DepartmentStatus) -> list[Any]:
    """One department's part of a task on the task's cycle, with the reminders it got for that cycle."""
    deadline = view.deadline_text or ""
    if unit.due_date is not None:
        deadline = f"{deadline}（{unit.due_date.isoformat()}）" if deadline else unit.due_date.isoformat()
    values = {
        "id": view.id,
        "title": view.title,
        "citation": view.citation,
        "lead": view.lead_unit if view.lead_named else texts.TASK_NO_LEAD,
        "cooperating": "、".join(view.co_units) if view.lead_named else view.responsible_units,
        "deadline": deadline,
        "department": f"{unit.department}（{view.role_label(unit.role)}）",
        "period": period_label(unit.period),
        "status": texts.TASK_STATUS_LABELS.get(unit.status, unit.status),
        "done_at": unit.done_at,
        "done_by": unit.done_by,
        "reminders_sent": unit.reminders_sent,
        "reminders_acknowledged": unit.reminders_acknowledged,
    }
    return [values[key] for key, _label in texts.TASK_COLUMNS]
