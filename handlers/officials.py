"""Departmental contacts in chat: 绑定 <code>, 我的任务 [page], 更多, 收到, 完成 <task id>, 解绑, menu keys.

Text commands only match outside a dialog and only in their exact shapes ("完成 T237", not any sentence
that starts with 完成), so questions and the report wizard are not captured. Someone who is not a bound
contact gets told how to bind.

``我的任务`` lists a page of the department's open tasks. When more pages follow, the conversation is in
state ``officials:tasks`` (data ``tasks_page``) for a while so that ``更多`` shows the next one; like the
knowledge base's numbered picks, ``more_router`` runs first and anything else simply ends that state.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import menu, texts
from bot.context import Context
from bot.reminders.acknowledgement import acknowledge_last
from bot.reminders.render import cn_date
from bot.routing import NO_STATE, HandlerResult, Router, menu_key, text_is, text_matches
from bot.tasks.completion import mark_done
from bot.tasks.status import TaskError, TaskView, list_tasks
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
more_router = Router("officials-more")

BIND = re.compile(r"\s*绑定\s*(?P<code>[A-Za-z0-9\-－—_ ]{0,24})\s*[。.!！]?\s*")
DONE = re.compile(r"\s*完成\s*(?P<id>[A-Za-z][A-Za-z0-9\-]{0,31})?\s*[。.!！]?\s*")
MY_TASKS_WORDS = ("我的任务", "本单位任务", "查看任务")
MY_TASKS = re.compile(
    r"\s*(?:我的任务|本单位任务|查看任务)\s*(?:第\s*)?(?P<page>[0-9０-９]{1,4})?\s*页?\s*[。.!！]?\s*"
)
MORE_WORDS = ("更多", "下一页", "更多任务", "继续")
PAGE_STATE = "officials:tasks"
PAGE_KEY = "tasks_page"
PAGE_TTL = timedelta(minutes=30)
ACK_WORDS = ("收到", "已收到", "收到了")
UNBIND_WORDS = ("解绑", "解除绑定")
PAGE_SIZE = 8


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


def _task_line(view: TaskView, department: str, zone: ZoneInfo) -> str:
    lead = texts.MY_TASKS_LEAD if view.leads(department) else ""
    period = _period_label(view.period) + " " if view.recurrence == "yearly" else ""
    status = _status_text(view)
    earlier = view.last_completion(department)
    if earlier is not None and earlier.period != view.period and earlier.done_at is not None:
        status += texts.MY_TASKS_DONE_BEFORE.format(
            period=_period_label(earlier.period), date=cn_date(earlier.done_at.astimezone(zone).date())
        )
    return texts.MY_TASKS_LINE.format(
        id=view.id, title=view.title, lead=lead, period=period, deadline=_deadline_text(view), status=status
    )


async def _open_tasks(ctx: Context, department: str) -> list[TaskView]:
    return await list_tasks(
        ctx.session, department=department, now=ctx.now, timezone=ctx.services.config.reminders.timezone, open_only=True
    )


async def _my_tasks(ctx: Context, page: int = 1) -> HandlerResult:
    """One page of the department's open tasks, overdue first; remembers the page for 更多."""
    contact = await _official(ctx)
    if contact is None:
        return texts.NOT_OFFICIAL
    department = await _department_name(ctx, contact)
    views = await _open_tasks(ctx, department)
    if ctx.conversation.state == PAGE_STATE:
        ctx.conversation.clear()
    if not views:
        return texts.MY_TASKS_NONE.format(department=department)
    pages = -(-len(views) // PAGE_SIZE)
    if not 1 <= page <= pages:
        return texts.MY_TASKS_NO_PAGE.format(page=page, pages=pages)
    shown = views[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    lead_count = sum(1 for v in views if v.leads(department))
    lines = [texts.MY_TASKS_HEADER.format(department=department, count=len(views), lead=lead_count)]
    zone = ZoneInfo(ctx.services.config.reminders.timezone)
    lines += [_task_line(view, department, zone) for view in shown]
    if pages > 1:
        lines.append(texts.MY_TASKS_PAGE.format(page=page, pages=pages))
    if page < pages:
        lines.append(texts.MY_TASKS_NEXT.format(next=page + 1))
        ctx.conversation.set(PAGE_STATE, ttl=PAGE_TTL, **{PAGE_KEY: page})
    lines.append(texts.MY_TASKS_FOOTER.format(example=shown[0].id))
    return "\n".join(lines)


def _page_asked(text: str) -> int:
    match = MY_TASKS.fullmatch(text)
    digits = match.group("page") if match else None
    return int(unicodedata.normalize("NFKC", digits)) if digits else 1


def _free_or_paging(ctx: Context) -> bool:
    return ctx.conversation.state in (None, PAGE_STATE)


@router.on(text_matches(MY_TASKS), _free_or_paging)
async def my_tasks(ctx: Context) -> HandlerResult:
    return await _my_tasks(ctx, _page_asked(ctx.text))


@router.on(menu_key(menu.KEY_MY_TASKS))
async def my_tasks_menu(ctx: Context) -> HandlerResult:
    return await _my_tasks(ctx)


def _asks_more(ctx: Context) -> bool:
    return text_is(*MORE_WORDS)(ctx)


def _release_unless_more(ctx: Context) -> bool:
    """Filter with one deliberate side effect: anything but 更多 ends the paging (never matches)."""
    if ctx.conversation.state == PAGE_STATE and not _asks_more(ctx) and not MY_TASKS.fullmatch(ctx.text or ""):
        ctx.conversation.clear()
    return False


@more_router.on(_asks_more, state=PAGE_STATE)
async def more_tasks(ctx: Context) -> HandlerResult:
    return await _my_tasks(ctx, int(ctx.conversation.data.get(PAGE_KEY) or 0) + 1)


@more_router.on(_release_unless_more, state=PAGE_STATE)
async def _never(ctx: Context) -> HandlerResult:  # pragma: no cover - the filter never matches
    return None


def _paging_expired(ctx: Context) -> bool:
    return ctx.conversation.expired_state == PAGE_STATE and _asks_more(ctx)


@router.on(_paging_expired, state=NO_STATE)
async def more_after_expiry(ctx: Context) -> HandlerResult:
    """更多 after the list went stale: continue where it stopped (the list is recomputed)."""
    return await _my_tasks(ctx, int(ctx.conversation.expired_data.get(PAGE_KEY) or 0) + 1)


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


async def _done_usage(ctx: Context, department: str) -> str:
    """How to use 完成, with one of the department's own open tasks as the example."""
    views = await _open_tasks(ctx, department)
    if not views:
        return texts.DONE_USAGE_NONE_OPEN.format(department=department)
    return texts.DONE_USAGE.format(example=views[0].id, title=views[0].title)


@router.on(text_matches(DONE), state=NO_STATE)
async def done(ctx: Context) -> HandlerResult:
    contact = await _official(ctx)
    if contact is None:
        return texts.NOT_OFFICIAL
    match = DONE.fullmatch(ctx.text)
    task_id = (match.group("id") or "") if match else ""
    department = await _department_name(ctx, contact)
    if not task_id:
        return await _done_usage(ctx, department)
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
