"""Violation reports in the chat: the wizard's routes, 查询/我的举报, the guide, early photos and locations.

Route order inside this router: entry words and the report menu, queries (allowed in the middle of a
draft), then everything a user sends while in a ``report:*`` state (so no other area answers it), then
photos and locations sent outside any dialog (kept for a report started soon after).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot import menu, texts
from bot.context import Context
from bot.reports import catalog, geo, notices
from bot.reports.steps import ANY_STEP, AREA, PREFIX
from bot.routing import (
    NO_STATE,
    HandlerResult,
    Router,
    any_of,
    event,
    has_text,
    menu_key,
    msg_type,
    text_is,
    text_startswith,
)
from handlers import common, report_answers
from handlers import report_wizard as wizard
from handlers.report_parse import clean, find_case_no, looks_like_case_attempt
from storage import report_queries
from storage.models import Report, ReportPendingLocation
from storage.staff import units_of

router = Router("report")

ENTRY_WORDS = ("举报", "我要举报", "投诉", "我要投诉", "提交举报", "举报线索", "新举报")
ENTRY_PREFIXES = ("我要举报", "我要投诉")
MINE_WORDS = ("我的举报", "我的投诉", "举报记录", "查询举报", "举报查询", "查询进度", "举报进度", "查询")
GUIDE_WORDS = ("举报须知", "举报指南", "怎么举报", "如何举报")
QUERY_PREFIX = re.compile(r"^(?:查询|查看|查|进度|案件|编号)")
RECENT_SUBMISSION = timedelta(minutes=30)
MINE_LIMIT = 10
QUERY_REPLIES = 3
QUERY_REPLY_CHARS = 400


def _in_report(ctx: Context) -> bool:
    return ctx.conversation.in_state(AREA)


def _free_or_report(ctx: Context) -> bool:
    return ctx.conversation.state is None or _in_report(ctx)


@lru_cache(maxsize=4096)
def _case_reading(typed: str) -> tuple[bool, bool]:
    """(a query for a case, a query whose case number is malformed) for what the user typed. Two routes
    look at every message outside a dialog: each distinct text is read once."""
    text = clean(typed).upper()
    if not text:
        return False, False
    if find_case_no(text) is not None:
        return bool(QUERY_PREFIX.match(text)) or text.startswith("YC"), False
    # 查询 followed by something meant as a case number that is not one (or a bare "YC2026…")
    prefix = QUERY_PREFIX.match(text)
    rest = text[prefix.end() :] if prefix else text
    if not prefix and not report_queries.normalize_case_no(rest).startswith("YC"):
        return False, False
    return False, looks_like_case_attempt(rest)


def _is_query(ctx: Context) -> bool:
    return _case_reading(ctx.incoming.text)[0]


async def _with_prompt(ctx: Context, reply: str) -> str:
    """Answer a side question in the middle of a draft, then repeat the step's prompt."""
    if not _in_report(ctx):
        return reply
    return reply + "\n\n" + await wizard.reprompt(ctx, texts.REPORT_IN_PROGRESS)


# ---- entry ---------------------------------------------------------------------------------------


@router.on(any_of(text_is(*ENTRY_WORDS), text_startswith(*ENTRY_PREFIXES), menu_key(menu.KEY_REPORT_NEW)))
async def start_report(ctx: Context) -> HandlerResult:
    if _in_report(ctx):
        return await wizard.reprompt(ctx, texts.REPORT_IN_PROGRESS)
    rest = ""
    text = ctx.incoming.text.strip()  # the description is kept exactly as typed
    for prefix in ENTRY_PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix) :].lstrip("：:，,。 \u3000")
            break
    return await wizard.start(ctx, rest)


# ---- queries, the guide --------------------------------------------------------------------------


def _local(ctx: Context):  # type: ignore[no-untyped-def]
    return catalog.local_zone(ctx.services)


async def render_for_reporter(ctx: Context, report: Report) -> str:
    """Status and public replies of one report, for its reporter."""
    zone = _local(ctx)
    extra = ""
    if report.status == "duplicate" and report.duplicate_of:
        original = await report_queries.get_report(ctx.session, report.duplicate_of)
        if original is not None:
            extra += texts.REPORT_QUERY_LINKED.format(
                original=original.case_no, status=catalog.status_label(original.status)
            )
            report_events = [*report.events, *original.events]
        else:
            report_events = list(report.events)
    else:
        report_events = list(report.events)
    if report.status == "rejected":
        extra += texts.REPORT_QUERY_REJECTED.format(reason=report.reject_reason, authority=report.competent_authority)
    replies = sorted((e for e in report_events if e.public_reply and not e.internal), key=lambda e: e.at)
    shown = replies[-QUERY_REPLIES:]  # the newest ones, each short enough for one chat reply
    units = await units_of(ctx.session, [e.actor for e in shown])
    for e in shown:
        extra += texts.REPORT_QUERY_REPLY.format(
            unit=units.get(e.actor) or report.department,
            at=f"{e.at.astimezone(zone):%m-%d}",
            reply=notices.clip(e.public_reply, QUERY_REPLY_CHARS),
        )
    if not replies and report.status != "rejected":
        extra += texts.REPORT_QUERY_NO_REPLY
    missing = sum(1 for p in report.photos if p.status in ("failed", "expired", "rejected"))
    if missing:
        extra += texts.REPORT_QUERY_MISSING_PHOTOS.format(n=missing)
    return texts.REPORT_QUERY_DETAIL.format(
        case_no=report.case_no,
        created=f"{report.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
        category=catalog.category_label(report.category),
        status=catalog.status_label(report.status),
        units=handling_units(report),
        extra=extra,
    ).rstrip()


def handling_units(report: Report) -> str:
    """The department a case is routed to and, when located in a county, that county's government."""
    units = [report.department]
    if report.county:
        units.append(geo.county_government(report.county))
    return "、".join(u for u in units if u)


def _is_malformed_query(ctx: Context) -> bool:
    """查询 followed by something meant as a case number that is not one (or a bare "YC2026…")."""
    return _case_reading(ctx.incoming.text)[1]


@router.on(_is_malformed_query, _free_or_report)
async def malformed_query(ctx: Context) -> HandlerResult:
    typed = clean(ctx.incoming.text)
    prefix = QUERY_PREFIX.match(typed)
    shown = (typed[prefix.end() :] if prefix else typed).strip()[:30]
    return await _with_prompt(ctx, texts.REPORT_QUERY_FORMAT.format(typed=shown))


@router.on(_is_query, _free_or_report)
async def query_case(ctx: Context) -> HandlerResult:
    case_no = find_case_no(ctx.incoming.text) or ""
    report = await report_queries.get_report(ctx.session, case_no)
    if report is None or report.reporter_openid != ctx.openid:
        # Other people's reports look exactly like missing ones.
        return await _with_prompt(ctx, texts.REPORT_QUERY_NOT_FOUND.format(case_no=case_no))
    return await _with_prompt(ctx, await render_for_reporter(ctx, report))


async def render_mine(ctx: Context) -> str:
    reports = await report_queries.reports_of(ctx.session, ctx.openid, limit=MINE_LIMIT)
    if not reports:
        return texts.REPORT_MINE_EMPTY
    zone = _local(ctx)
    lines = [
        texts.REPORT_MINE_LINE.format(
            case_no=r.case_no, created=f"{r.created_at.astimezone(zone):%m-%d}", status=catalog.status_label(r.status)
        )
        for r in reports
    ]
    latest = await render_for_reporter(ctx, reports[0])
    return (
        texts.REPORT_MINE_HEADER.format(n=len(reports))
        + "".join(lines)
        + "\n"
        + latest
        + "\n\n"
        + texts.REPORT_MINE_FOOTER
    )


@router.on(any_of(text_is(*MINE_WORDS), menu_key(menu.KEY_REPORT_MINE)), _free_or_report)
async def my_reports(ctx: Context) -> HandlerResult:
    return await _with_prompt(ctx, await render_mine(ctx))


@router.on(any_of(text_is(*GUIDE_WORDS), menu_key(menu.KEY_REPORT_GUIDE)), _free_or_report)
async def guide(ctx: Context) -> HandlerResult:
    return await _with_prompt(ctx, texts.REPORT_GUIDE)


# ---- inside the wizard ---------------------------------------------------------------------------


@router.on(text_is(*common.HELP_WORDS), state=ANY_STEP)
async def wizard_help(ctx: Context) -> HandlerResult:
    return await wizard.reprompt(ctx, texts.REPORT_HELP_IN_WIZARD)


@router.on(msg_type("image"), state=ANY_STEP)
async def wizard_photo(ctx: Context) -> HandlerResult:
    return await wizard.attach_photo(ctx)


@router.on(msg_type("location"), state=ANY_STEP)
async def wizard_location(ctx: Context) -> HandlerResult:
    return await wizard.attach_location(ctx)


@router.on(event("click", "view", "scancode_push", "scancode_waitmsg"), state=ANY_STEP)
async def wizard_other_menu(ctx: Context) -> HandlerResult:
    return await wizard.reprompt(ctx, texts.REPORT_OTHER_FEATURE)


@router.on(has_text(), state=ANY_STEP)
async def wizard_text(ctx: Context) -> HandlerResult:
    step = wizard.current_step(ctx)
    handler = report_answers.TEXT_STEPS.get(step) if step is not None else None
    if handler is None:  # an unknown sub-state (e.g. from an older version): resume at the first gap
        return await wizard.advance(ctx)
    return await handler(ctx)


@router.on(lambda ctx: not ctx.incoming.is_event, state=ANY_STEP)
async def wizard_no_text(ctx: Context) -> HandlerResult:
    """A voice message WeChat could not transcribe, an empty text …: say what this step needs."""
    return await wizard.reprompt(ctx, texts.REPORT_NEED_TEXT + "\n")


# ---- outside any dialog: early attachments, a repeated confirmation ------------------------------


@router.on(msg_type("image"), state=NO_STATE)
async def early_photo(ctx: Context) -> HandlerResult:
    cfg = ctx.services.config.reports
    if not ctx.incoming.media_id:
        return texts.UNSUPPORTED_TYPE
    if await report_queries.count_draft_photos(ctx.session, ctx.openid, None) >= cfg.max_photos:
        return (
            texts.REPORT_PHOTO_LIMIT.format(max=cfg.max_photos)
            + "\n"
            + texts.REPORT_PHOTO_PENDING.format(minutes=cfg.pending_attachment_minutes)
        )
    await report_queries.add_draft_photo(
        ctx.session,
        openid=ctx.openid,
        draft_id=None,
        media_id=ctx.incoming.media_id,
        now=ctx.now,
        pic_url=ctx.incoming.pic_url,
    )
    return texts.REPORT_PHOTO_PENDING.format(minutes=cfg.pending_attachment_minutes)


@router.on(msg_type("location"), state=NO_STATE)
async def early_location(ctx: Context) -> HandlerResult:
    loc = ctx.incoming.location
    cfg = ctx.services.config.reports
    if loc is None or not geo.valid_coordinates(loc.latitude, loc.longitude):
        return texts.REPORT_LOCATION_INVALID
    values = dict(
        latitude=loc.latitude, longitude=loc.longitude, label=loc.label[: cfg.max_address_chars], received_at=ctx.now
    )
    insert = postgresql.insert if ctx.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ReportPendingLocation).values(openid=ctx.openid, **values)
    await ctx.session.execute(stmt.on_conflict_do_update(index_elements=["openid"], set_=values))
    return texts.REPORT_LOCATION_PENDING.format(minutes=cfg.pending_attachment_minutes)


def _draft_expired(ctx: Context) -> bool:
    return (ctx.conversation.expired_state or "").startswith(PREFIX) and not ctx.incoming.is_event


@router.on(_draft_expired, state=NO_STATE)
async def expired_draft(ctx: Context) -> HandlerResult:
    """The first message after a draft timed out: say so rather than treat it as a new question."""
    hours = ctx.services.config.reports.draft_expiry_hours
    return texts.REPORT_DRAFT_EXPIRED.format(hours=hours) + texts.REPORT_RESTART_HINT


@router.on(text_is("确认", "确定", "提交", "确认提交"), state=NO_STATE)
async def late_confirmation(ctx: Context) -> HandlerResult:
    """确认 again after the report was filed (a double tap, a resend): point to the case, file nothing."""
    latest = await ctx.session.scalar(
        select(Report)
        .where(Report.reporter_openid == ctx.openid, Report.created_at >= ctx.now - RECENT_SUBMISSION)
        .order_by(Report.id.desc())
        .limit(1)
    )
    if latest is None:
        return await common.fallback(ctx)
    return texts.REPORT_ALREADY_SUBMITTED.format(case_no=latest.case_no)
