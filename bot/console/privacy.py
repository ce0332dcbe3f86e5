"""Reporters' data requests for admins: the list, and carrying out a deletion request."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot import texts
from bot.console.common import client_ip, console_of, fail, redirect, render, require_admin, session_of
from bot.privacy import requests as privacy
from storage.models.privacy import DataRequest
from storage.models.reports import Report

MAX_ROWS = 200


def _masked(openid: str) -> str:
    return f"{openid[:4]}…{openid[-2:]}" if len(openid) > 8 else ("—" if not openid else "***")


def _summary(request: DataRequest) -> str:
    result = request.result or {}
    if request.kind == "erasure":
        return texts.PRIVACY_ERASED.format(
            request_id=request.id,
            cases=len(result.get("erased_cases", [])),
            open=len(result.get("open_cases", [])),
        )
    return "、".join(result.get("cases", [])) or "—"


async def requests_page(request: web.Request) -> web.Response:
    require_admin(request)
    console = console_of(request)
    async with console.services.database.session() as db:
        rows = await privacy.list_requests(db, limit=MAX_ROWS)
        openids = {r.openid for r in rows if r.openid}
        cases: dict[int, list[str]] = {}
        if openids:
            found = (
                await db.execute(
                    select(Report.reporter_openid, Report.case_no).where(Report.reporter_openid.in_(openids))
                )
            ).all()
            by_openid: dict[str, list[str]] = {}
            for openid, case_no in found:
                by_openid.setdefault(openid, []).append(case_no)
            cases = {r.id: sorted(by_openid.get(r.openid, [])) for r in rows}
    return render(
        request,
        "privacy.html",
        {
            "requests": rows,
            "cases": cases,
            "masked": _masked,
            "summary": _summary,
            "kind_label": lambda k: texts.PRIVACY_REQUEST_KINDS.get(k, k),
            "status_label": lambda s: texts.PRIVACY_REQUEST_STATUS.get(s, s),
        },
    )


async def erase(request: web.Request) -> web.Response:
    staff = require_admin(request)
    raw = request.match_info["request_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise fail(404, texts.PRIVACY_REQUEST_UNKNOWN.format(request_id=raw[:12]))
    request_id = int(raw)
    console = console_of(request)
    async with console.services.database.session() as db:
        try:
            done = await privacy.carry_out_erasure(
                db, request_id, actor=staff.username, now=console.services.now(), ip=client_ip(request)
            )
        except privacy.RequestError as exc:
            if exc.done:
                session_of(request).flash(texts.PRIVACY_REQUEST_DONE.format(request_id=request_id), "warning")
                return redirect("/console/privacy")
            raise fail(404, texts.PRIVACY_REQUEST_UNKNOWN.format(request_id=request_id)) from None
        await db.commit()
    session_of(request).flash(_summary(done))
    return redirect("/console/privacy")
