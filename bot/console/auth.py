"""Log-in and log-out. A successful log-in starts a new session (new CSRF token), so a token seen before
log-in is worthless afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot import texts
from bot.console.common import (
    SESSION,
    STAFF,
    client_ip,
    console_of,
    current_staff,
    form_data,
    local_time,
    redirect,
    render,
    safe_next,
)
from bot.console.session import ConsoleSession
from storage.sessions import revoke_session
from storage.staff import authenticate, record_audit


async def login_page(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if current_staff(request) is not None:
        return redirect(target or "/console/reports")
    return render(request, "login.html", {"next": target or "", "username": "", "error": ""})


async def login_submit(request: web.Request) -> web.Response:
    console = console_of(request)
    form = form_data(request)
    username = form.get("username", "").strip()[:200]
    password = form.get("password", "")
    target = safe_next(form.get("next")) or "/console/reports"

    def again(error: str, status: int) -> web.Response:
        return render(
            request,
            "login.html",
            {"next": safe_next(form.get("next")) or "", "username": username[:64], "error": error},
            status=status,
        )

    if not username or not password:
        return again(texts.LOGIN_MISSING, 400)
    if len(password) > 1024:
        password = password[:1024]
    cfg = console.config
    now = console.services.now()
    async with console.services.database.session() as db:
        result = await authenticate(
            db,
            username,
            password,
            ip=client_ip(request),
            now=now,
            max_failures=cfg.max_failed_logins,
            max_failures_per_ip=cfg.max_failed_logins_per_ip,
            lockout=timedelta(minutes=cfg.lockout_minutes),
        )
        await db.commit()
    if result.outcome == "locked":
        return again(texts.LOGIN_LOCKED.format(until=local_time(result.locked_until)), 429)
    if not result.ok or result.staff is None:
        return again(texts.LOGIN_BAD, 401)
    fresh = ConsoleSession.fresh(now)
    fresh.staff_id = result.staff.id
    fresh.version = result.staff.session_version
    request[SESSION] = fresh
    request[STAFF] = result.staff
    return redirect(target)


async def logout(request: web.Request) -> web.Response:
    console = console_of(request)
    staff = current_staff(request)
    now = console.services.now()
    if staff is not None:
        old = request[SESSION]
        expires = datetime.fromtimestamp(old.issued_at, UTC) + timedelta(seconds=console.config.session_max_age_seconds)
        async with console.services.database.session() as db:
            await revoke_session(db, old.csrf, expires_at=expires)
            await record_audit(db, actor=staff.username, action="logout", ip=client_ip(request), now=now)
            await db.commit()
    fresh = ConsoleSession.fresh(now)
    fresh.flash(texts.LOGGED_OUT)
    request[SESSION] = fresh
    return redirect("/console/login")
