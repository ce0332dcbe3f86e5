"""Departmental contacts in chat: 绑定 <code>, 我的任务, 收到, 完成 <task id>, 解绑, and their menu keys.

Text commands only match outside a dialog and only in their exact shapes ("完成 T05", not any sentence
that starts with 完成), so questions and the report wizard are not captured. Someone who is not a bound
contact gets told how to bind.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import menu, texts
from bot.context import Context
from bot.reminders.acknowledgement import acknowledge_last
from bot.reminders.render import cn_date
from bot.routing import NO_STATE, HandlerResult, Router, menu_key, text_is, text_matches
from bot.tasks.status import TaskError, TaskView, list_tasks, mark_done
from storage.contacts import (
    BindLimits,
    DepartmentError,
    contact_for_openid,
    department_by_id,
    redeem_code,
    unbind,
)
from storage.models.reminders import Contact
from storage.outbox import enqueue

router = Router("officials")

BIND = re.compile(r"\s*绑定\s*(?P<code>[A-Za-z0-9\-－—_ ]{0,24})\s*[。.!！]?\s*")
DONE = re.compile(r"\s*完成\s*(?P<id>[A-Za-z][A-Za-z0-9\-]{0,31})?\s*[。.!！]?\s*")
MY_TASKS_WORDS = ("我的任务", "本单位任务", "查看任务")
ACK_WORDS = ("收到", "已收到", "收到了")
UNBIND_WORDS = ("解绑", "解除绑定")
MAX_LISTED = 8


async def _official(ctx: Context) -> Contact | None:
    """The caller's contact record; one marked unreachable is active again (they are talking to us)."""
    contact = await contact_for_openid(ctx.session, ctx.openid)
    if contact is not None and contact.status == "unreachable":
        contact.status = "active"
        contact.status_reason = ""
        contact.updated_at = ctx.now
    return contact


async def _officials_tag(ctx: Context, kind: str) -> None:
    """Tag (or untag) the official so that WeChat shows them the officials' personalised menu; sent by the
    outbox worker after this transaction commits."""
    await enqueue(
        ctx.session,
        channel="mp",
        kind=kind,
        recipient=ctx.openid,
        payload={"tag": texts.OFFICIALS_TAG},
        now=ctx.now,
        dedup_key=f"{kind}:{ctx.openid}:{ctx.now.timestamp():.0f}",
        purpose="officials-tag",
    )


async def _department_name(ctx: Context, contact: Contact) -> str:
    dept = await department_by_id(ctx.session, contact.department_id)
    return dept.name if dept else ""


@router.on(text_matches(BIND), state=NO_STATE)
async def bind(ctx: Context) -> HandlerResult:
    match = BIND.fullmatch(ctx.text)
    code = match.group("code").strip() if match else ""
    if not code:
        return texts.BIND_USAGE
    cfg = ctx.services.config.reminders
    limits = BindLimits(
        per_openid=cfg.bind_max_failures_per_openid,
        overall=cfg.bind_max_failures_total,
        window=timedelta(minutes=cfg.bind_window_minutes),
    )
    outcome = await redeem_code(ctx.session, ctx.openid, code, now=ctx.now, limits=limits)
    if outcome.status == "bound":
        await _officials_tag(ctx, "tag")
        name = f"（{outcome.contact.name}）" if outcome.contact and outcome.contact.name else ""
        return texts.BIND_OK.format(department=outcome.department, name=name)
    if outcome.status == "already":
        return texts.BIND_ALREADY.format(department=outcome.department)
    if outcome.status == "throttled":
        return texts.BIND_THROTTLED
    if outcome.status == "malformed":
        return texts.BIND_MALFORMED
    return texts.BIND_INVALID


@router.on(menu_key(menu.KEY_BIND_HELP))
async def bind_help(ctx: Context) -> HandlerResult:
    contact = await contact_for_openid(ctx.session, ctx.openid)
    if contact is not None:
        return texts.BIND_ALREADY.format(department=await _department_name(ctx, contact))
    return texts.BIND_HELP


def _status_text(view: TaskView) -> str:
    if view.status == "overdue":
        return texts.TASK_STATUS_OVERDUE.format(n=view.overdue_working_days)
    if view.status == "done":
        return texts.TASK_STATUS_DONE
    if view.working_days_left == 0:
        return texts.TASK_STATUS_DUE_TODAY
    return texts.TASK_STATUS_LEFT.format(n=view.working_days_left)


def _deadline_text(view: TaskView) -> str:
    return texts.TASK_DEADLINE.format(date=cn_date(view.due_date)) if view.due_date else texts.TASK_DEADLINE_NONE


async def _my_tasks(ctx: Context) -> HandlerResult:
    contact = await _official(ctx)
    if contact is None:
        return texts.NOT_OFFICIAL
    department = await _department_name(ctx, contact)
    views = await list_tasks(
        ctx.session, department=department, now=ctx.now, timezone=ctx.services.config.reminders.timezone, open_only=True
    )
    if not views:
        return texts.MY_TASKS_NONE.format(department=department)
    lines = [texts.MY_TASKS_HEADER.format(department=department, count=len(views))]
    for view in views[:MAX_LISTED]:
        lines.append(
            texts.MY_TASKS_LINE.format(
                id=view.id, title=view.title, deadline=_deadline_text(view), status=_status_text(view)
            )
        )
    if len(views) > MAX_LISTED:
        lines.append(texts.MY_TASKS_MORE.format(count=len(views) - MAX_LISTED))
    lines.append(texts.MY_TASKS_FOOTER.format(example=views[0].id))
    return "\n".join(lines)


@router.on(text_is(*MY_TASKS_WORDS), state=NO_STATE)
async def my_tasks(ctx: Context) -> HandlerResult:
    return await _my_tasks(ctx)


@router.on(menu_key(menu.KEY_MY_TASKS))
async def my_tasks_menu(ctx: Context) -> HandlerResult:
    return await _my_tasks(ctx)


@router.on(text_is(*ACK_WORDS), state=NO_STATE)
async def acknowledge(ctx: Context) -> HandlerResult:
    contact = await _official(ctx)
    if contact is None:
        return texts.NOT_OFFICIAL
    outcome, count = await acknowledge_last(ctx.session, contact, ctx.now)
    if outcome == "none":
        return texts.ACK_NONE
    if outcome == "already":
        return texts.ACK_ALREADY
    return texts.ACK_OK.format(count=count)


def _period_label(period: str) -> str:
    return texts.PERIOD_YEAR.format(year=period) if period.isdigit() else texts.PERIOD_ONCE


@router.on(text_matches(DONE), state=NO_STATE)
async def done(ctx: Context) -> HandlerResult:
    contact = await _official(ctx)
    if contact is None:
        return texts.NOT_OFFICIAL
    match = DONE.fullmatch(ctx.text)
    task_id = (match.group("id") or "") if match else ""
    if not task_id:
        return texts.DONE_USAGE
    department = await _department_name(ctx, contact)
    actor = f"{contact.name or '联络人'}（联络人#{contact.id}）"
    try:
        result = await mark_done(
            ctx.session,
            task_id,
            department,
            actor=actor,
            now=ctx.now,
            via="chat",
            timezone=ctx.services.config.reminders.timezone,
        )
    except (TaskError, DepartmentError) as exc:
        return texts.DONE_FAILED.format(reason=texts.reason(exc))
    if result.already:
        return texts.DONE_ALREADY.format(id=result.task_id, period=_period_label(result.period))
    local = ctx.now.astimezone(ZoneInfo(ctx.services.config.reminders.timezone))
    return texts.DONE_OK.format(
        department=result.department,
        id=result.task_id,
        title=result.title,
        period=_period_label(result.period),
        actor=actor,
        at=local.strftime("%Y-%m-%d %H:%M"),
    )


@router.on(text_is(*UNBIND_WORDS), state=NO_STATE)
async def unbind_me(ctx: Context) -> HandlerResult:
    contact = await contact_for_openid(ctx.session, ctx.openid)
    if contact is None:
        return texts.NOT_OFFICIAL
    department = await _department_name(ctx, contact)
    await unbind(ctx.session, contact, now=ctx.now, reason="unbound in chat")
    await _officials_tag(ctx, "untag")
    return texts.UNBIND_OK.format(department=department)
