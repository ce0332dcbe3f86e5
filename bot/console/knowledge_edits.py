"""问答改进, the changes: attach a question group to an entry, draft a new entry, and (administrators) publish
or reject the drafts. Publishing runs the sealed evaluation gate; every step is in the audit log.
Drafting: administrators and the 市生态环境局 accounts; publishing and rejecting: administrators."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import texts
from bot.console.common import (
    client_ip,
    console_of,
    fail,
    form_data,
    redirect,
    render,
    require_admin,
    require_staff,
    session_of,
)
from bot.questions.edits import DRAFT, changes, create_change, file_names, lines, reject_change
from bot.questions.live import WATCHER
from bot.questions.publish import PUBLISHED_NOW, publish_change
from bot.questions.review import KEY_CHARS, may_review
from knowledge.edits import ENTRY, PHRASING, Edit
from storage.staff import StaffInfo, record_audit

CHANGES_PATH = "/console/questions/changes"
DEFAULT_FILE = "general.toml"


def _reviewer(request: web.Request) -> StaffInfo:
    staff = require_staff(request)
    if not may_review(staff):
        raise fail(403, texts.QA_REVIEW_ONLY)
    return staff


def _knowledge_data(request: web.Request) -> Any:
    data = getattr(console_of(request).services.knowledge, "data", None)
    if data is None:
        raise fail(503, texts.KB_UNAVAILABLE)
    return data


def _group(form: dict[str, str]) -> tuple[str, str]:
    key = form.get("key", "").strip()
    if len(key) > KEY_CHARS:
        raise fail(400, texts.QA_BAD_GROUP)
    return key, form.get("example", "").strip()


def _entry_choices(data: Any) -> list[tuple[str, str]]:
    return sorted((e.id, e.question) for e in data.entries)


async def _save(request: web.Request, staff: StaffInfo, edit: Edit, key: str, example: str) -> Any:
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        made = await create_change(db, _knowledge_data(request), edit, group_key=key, example=example,
                                   actor=staff.username, now=now)  # fmt: skip
        if isinstance(made, list):
            return made
        await record_audit(db, actor=staff.username, action="knowledge_drafted", ip=client_ip(request), now=now,
                           detail={"change": made.id, "kind": edit.kind, "entry": edit.entry_id})  # fmt: skip
        await db.commit()
        return made


async def attach(request: web.Request) -> web.Response:
    """A group's question becomes a new way of asking an existing entry (a draft)."""
    staff = _reviewer(request)
    form = form_data(request)
    key, example = _group(form)
    question = form.get("question", "").strip() or example
    edit = Edit(PHRASING, form.get("entry_id", "").strip(), question)
    made = await _save(request, staff, edit, key, example)
    if isinstance(made, list):
        raise fail(400, "；".join(made))
    session_of(request).flash(texts.KB_EDIT_DRAFTED.format(id=made.id))
    return redirect(CHANGES_PATH)


def _draft_form(request: web.Request, values: dict[str, str], problems: list[str], status: int = 200) -> web.Response:
    data = _knowledge_data(request)
    source_keys = data.sources.keys()  # a SourceCatalog, not a dict
    context = {
        "values": values,
        "problems": problems,
        "files": file_names(data),
        "source_keys": [(k, data.sources.cite(k)) for k in source_keys],
        "entries": _entry_choices(data),
    }
    return render(request, "knowledge_draft.html", context, status=status)


async def draft_page(request: web.Request) -> web.Response:
    _reviewer(request)
    q = request.query
    values = {
        "key": q.get("key", "")[:KEY_CHARS],
        "example": q.get("example", ""),
        "entry_id": "",
        "question": q.get("example", ""),
        "paraphrases": "\n".join(w for w in q.getall("wording", []) if w != q.get("example", "")),
        "answer": "",
        "sources": "",
        "file": DEFAULT_FILE,
    }
    return _draft_form(request, values, [])


async def draft_submit(request: web.Request) -> web.Response:
    """A new entry (question, ways of asking, answer, source citation) as a draft."""
    staff = _reviewer(request)
    form = form_data(request)
    key, example = _group(form)
    fields = ("entry_id", "question", "paraphrases", "answer", "sources", "file")
    values = {"key": key, "example": example, **{f: form.get(f, "").strip() for f in fields}}
    edit = Edit(
        ENTRY,
        values["entry_id"],
        values["question"],
        answer=values["answer"],
        sources=lines(values["sources"].replace(",", "\n").replace("，", "\n")),
        paraphrases=lines(values["paraphrases"]),
        file=values["file"],
    )
    made = await _save(request, staff, edit, key, example)
    if isinstance(made, list):
        return _draft_form(request, values, made, status=400)
    session_of(request).flash(texts.KB_EDIT_DRAFTED.format(id=made.id))
    return redirect(CHANGES_PATH)


async def changes_page(request: web.Request) -> web.Response:
    _reviewer(request)
    console = console_of(request)
    async with console.services.database.session() as db:
        rows = await changes(db)
    data = getattr(console.services.knowledge, "data", None)
    questions = {e.id: e.question for e in data.entries} if data is not None else {}
    return render(
        request,
        "knowledge_changes.html",
        {"drafts": [c for c in rows if c.status == DRAFT], "decided": [c for c in rows if c.status != DRAFT],
         "entry_questions": questions, "version": getattr(console.services.knowledge, "version", 0) or 0,
         "lines": lines},
    )  # fmt: skip


def _change_id(request: web.Request) -> int:
    raw = request.match_info["change_id"]
    if not raw.isdigit() or len(raw) > 9:
        raise fail(404)
    return int(raw)


async def publish(request: web.Request) -> web.Response:
    staff = require_admin(request)
    console = console_of(request)
    services = console.services
    outcome = await publish_change(
        services.database, _change_id(request), actor=staff.username, now=services.now(), ip=client_ip(request),
        eval_dir=services.config.knowledge.eval_path(),
    )  # fmt: skip
    if outcome.status == PUBLISHED_NOW:
        watcher = services.extras.get(WATCHER)
        if watcher is not None and outcome.knowledge is not None and outcome.version is not None:
            watcher.adopt(outcome.knowledge, outcome.version)
        session_of(request).flash(texts.KB_PUBLISHED.format(version=outcome.version))
    else:
        message = texts.KB_PUBLISH_OUTCOMES[outcome.status]
        if outcome.problems:
            message += "；".join(outcome.problems)
        if outcome.lowered:
            message += " " + "；".join(outcome.figure_lines())
        session_of(request).flash(message, "warning")
    return redirect(CHANGES_PATH)


async def reject(request: web.Request) -> web.Response:
    staff = require_admin(request)
    console = console_of(request)
    now = console.services.now()
    change_id = _change_id(request)
    async with console.services.database.session() as db:
        change = await reject_change(db, change_id, actor=staff.username, now=now)
        if change is not None:
            await record_audit(db, actor=staff.username, action="knowledge_rejected", ip=client_ip(request), now=now,
                               detail={"change": change_id, "entry": change.entry_id})  # fmt: skip
        await db.commit()
    session_of(request).flash(texts.KB_REJECTED if change is not None else texts.KB_PUBLISH_OUTCOMES["not_draft"])
    return redirect(CHANGES_PATH)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/questions/attach", attach)
    router.add_get("/questions/draft", draft_page)
    router.add_post("/questions/draft", draft_submit)
    router.add_get("/questions/changes", changes_page)
    router.add_post("/questions/changes/{change_id}/publish", publish)
    router.add_post("/questions/changes/{change_id}/reject", reject)
