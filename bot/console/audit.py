"""The audit log for admins: log-ins, lock-outs, case actions, exports and every identity reveal."""

from __future__ import annotations

from aiohttp import web

from bot import texts
from bot.console.common import console_of, fail, period_label, render, require_admin
from bot.console.queries import valid_case_no
from storage.models.console import AuditEntry
from storage.staff import audit_entries

MAX_ROWS = 500


def detail_text(entry: AuditEntry) -> str:
    """What an entry was about, for the table: the task and cycle of a completion, the size of an export."""
    detail = entry.detail or {}
    if entry.action == "task_done" and detail.get("task"):
        return texts.AUDIT_TASK_DONE_DETAIL.format(
            task=detail["task"],
            department=detail.get("department", ""),
            period=period_label(str(detail.get("period", ""))),
            via=texts.TASK_DONE_VIA_LABELS.get(detail.get("via", ""), detail.get("via", "") or "—"),
        )
    if entry.action.startswith("export_") and "rows" in detail:
        return texts.AUDIT_EXPORT_DETAIL.format(format=str(detail.get("format", "")).upper(), rows=detail["rows"])
    return ""


async def audit_page(request: web.Request) -> web.Response:
    require_admin(request)
    case_no = request.query.get("case_no", "").strip().upper()
    action = request.query.get("action", "").strip()
    if case_no and not valid_case_no(case_no):
        raise fail(400, texts.BAD_FILTER.format(what=texts.BAD_CASE_NO))
    if action and action not in texts.AUDIT_ACTION_LABELS:
        what = texts.FILTER_UNKNOWN["audit_action"].format(value=action[:32])
        raise fail(400, texts.BAD_FILTER.format(what=what))
    console = console_of(request)
    async with console.services.database.session() as db:
        entries = await audit_entries(db, case_no=case_no or None, action=action or None, limit=MAX_ROWS)
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "case_no": case_no,
            "action": action,
            "actions": list(texts.AUDIT_ACTION_LABELS.items()),
            "action_label": lambda a: texts.AUDIT_ACTION_LABELS.get(a, a),
            "detail_text": detail_text,
            "limit": MAX_ROWS,
        },
    )
