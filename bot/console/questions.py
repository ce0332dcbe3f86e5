"""The 问答改进 page: questions the knowledge base refused, answered with low confidence or that users
rated 没用, grouped by similarity with counts and trend; a group can be marked out of scope (audited).
Admins and the 市生态环境局 accounts only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from bot import texts
from bot.console.common import client_ip, console_of, fail, form_data, redirect, render, require_staff, session_of
from bot.questions.review import (
    KEY_CHARS,
    QuestionGroup,
    groups_needing_attention,
    mark_out_of_scope,
    may_review,
)
from storage.staff import StaffInfo, record_audit

DEFAULT_DAYS = 30
MAX_SUGGESTED = 30  # each is one answerer decision (a few ms) on the event loop


def _reviewer(request: web.Request) -> StaffInfo:
    staff = require_staff(request)
    if not may_review(staff):
        raise fail(403, texts.QA_REVIEW_ONLY)
    return staff


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "").strip() or str(DEFAULT_DAYS)
    if not raw.isdigit() or not 1 <= int(raw) <= 365:
        raise fail(400, texts.BAD_FILTER.format(what=texts.QA_BAD_DAYS))
    return int(raw)


async def questions_page(request: web.Request) -> web.Response:
    _reviewer(request)
    days = _days(request)
    decided = request.query.get("decided", "") == "1"
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        groups = await groups_needing_attention(db, since=now - timedelta(days=days), now=now, include_decided=decided)
    kb = console.services.knowledge
    entries = sorted((e.id, e.question) for e in kb.data.entries) if hasattr(kb, "data") else []
    return render(
        request,
        "questions.html",
        {"groups": groups, "days": days, "decided": decided, "reason_labels": texts.QA_REASONS,
         "decision_labels": texts.QA_DECISIONS, "entries": entries, "suggested": _suggested(kb, groups)},
    )  # fmt: skip


def _suggested(kb: Any, groups: list[QuestionGroup]) -> dict[str, str]:
    """The entry the knowledge base thinks closest to each group's question (prefills "attach to")."""
    if not hasattr(kb, "decide") or not hasattr(kb, "entries"):
        return {}
    out = {}
    for group in groups[:MAX_SUGGESTED]:
        decision = kb.decide(group.example)
        ids = [decision.passage_id, *(h.passage.id for h in decision.hits)]
        found = next((i for i in ids if i in kb.entries), None)
        if found:
            out[group.key] = found
    return out


async def out_of_scope(request: web.Request) -> web.Response:
    staff = _reviewer(request)
    form = form_data(request)
    key = form.get("key", "").strip()
    example = form.get("example", "").strip()
    if not key or len(key) > KEY_CHARS:
        raise fail(400, texts.QA_BAD_GROUP)
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        done = await mark_out_of_scope(db, key, example, actor=staff.username, now=now)
        if done:
            await record_audit(
                db,
                actor=staff.username,
                action="question_out_of_scope",
                ip=client_ip(request),
                now=now,
                detail={"group": key[:100]},
            )
        await db.commit()
    session_of(request).flash(texts.QA_MARKED if done else texts.QA_ALREADY_DECIDED)
    return redirect("/console/questions")
