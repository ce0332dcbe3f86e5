"""The console's plumbing: its context, page rendering, the session/CSRF/error middleware, access guards.

Handlers stay thin: they read ``current_staff(request)``, call the domain modules and return
``render(...)`` or ``redirect(...)``. Every error reaching the middleware becomes a readable HTML page with
the right 4xx status; nothing unexpected leaves as a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from itsdangerous import BadSignature, URLSafeSerializer

from bot import texts
from bot.config import LOCAL_TZ
from bot.console.session import COOKIE_NAME, CSRF_FIELD, ConsoleSession, SessionCodec
from bot.logging_setup import request_id
from bot.questions.review import may_review
from bot.services import Services
from storage.sessions import is_revoked
from storage.staff import StaffInfo, console_secret, get_staff

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MAX_FORM_BYTES = 256 * 1024
LOGIN_PATH = "/console/login"
LOGOUT_PATH = "/console/logout"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ConsoleError(web.HTTPException):
    """An error page with a specific explanation (instead of the generic one for its status)."""

    def __init__(self, status: int, message: str) -> None:
        self.status_code = status
        super().__init__(text=message)
        self.message = message


def fail(status: int, message: str | None = None) -> ConsoleError:
    return ConsoleError(status, message or texts.ERRORS.get(status, texts.ERRORS[400])[1])


@dataclass
class Console:
    """Everything the console's handlers share, kept on the console sub-application.

    The signing key is ``[console] secret_key``, or else one generated once and kept in the database,
    so every process signs and reads the same cookies; it is loaded at the first request.
    """

    services: Services
    env: jinja2.Environment
    secure_cookies: bool
    _codec: SessionCodec | None = None
    _photo_tokens: URLSafeSerializer | None = None

    @property
    def config(self) -> Any:
        return self.services.config.console

    async def load_keys(self) -> None:
        if self._codec is not None:
            return
        secret = self.config.secret_key
        if not secret:
            async with self.services.database.session() as db:
                secret = await console_secret(db)
                await db.commit()
        self._codec = SessionCodec(secret, self.config.session_max_age_seconds)
        self._photo_tokens = URLSafeSerializer(secret, salt="ycbot-console-photo")

    @property
    def codec(self) -> SessionCodec:
        assert self._codec is not None, "load_keys() runs first (the console middleware does it)"
        return self._codec

    @property
    def photo_tokens(self) -> URLSafeSerializer:
        assert self._photo_tokens is not None, "load_keys() runs first (the console middleware does it)"
        return self._photo_tokens


CONSOLE = web.AppKey("console", Console)
SESSION: web.RequestKey[ConsoleSession] = web.RequestKey("console_session", ConsoleSession)
STAFF: web.RequestKey[StaffInfo | None] = web.RequestKey("console_staff")
FORM: web.RequestKey[dict[str, str]] = web.RequestKey("console_form", dict)


def console_of(request: web.Request) -> Console:
    return request.config_dict[CONSOLE]


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def period_label(period: str) -> str:
    """A task occurrence as staff read it: 2025年度, or 一次性 for a one-off task."""
    return texts.PERIOD_YEAR.format(year=period) if period.isdigit() else texts.TASK_PERIOD_ONCE


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["status_label"] = lambda s: texts.STATUS_LABELS.get(s, s)
    env.filters["task_status_label"] = lambda s: texts.TASK_STATUS_LABELS.get(s, s)
    env.filters["period_label"] = period_label
    env.filters["done_via_label"] = lambda s: texts.TASK_DONE_VIA_LABELS.get(s, s)
    env.globals["title"] = texts.TITLE
    env.globals["reminder_kind"] = texts.reminder_kind
    env.globals["delivery_status"] = lambda s: texts.DELIVERY_STATUS_LABELS.get(s, s)
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["may_review_questions"] = may_review
    return env


# ---- request state ----------------------------------------------------------------------------------


def session_of(request: web.Request) -> ConsoleSession:
    return request[SESSION]


def current_staff(request: web.Request) -> StaffInfo | None:
    return request.get(STAFF)


def require_staff(request: web.Request) -> StaffInfo:
    """The logged-in account; a page request without one is sent to the log-in page."""
    staff = current_staff(request)
    if staff is None:
        if request.method == "GET":
            raise web.HTTPSeeOther(login_url(request.path_qs))
        raise fail(401)
    return staff


def require_admin(request: web.Request) -> StaffInfo:
    staff = require_staff(request)
    if not staff.is_admin:
        raise fail(403, texts.ADMIN_ONLY)
    return staff


def login_url(next_path: str | None = None) -> str:
    if next_path and safe_next(next_path):
        return f"/console/login?next={quote(next_path, safe='')}"
    return "/console/login"


def safe_next(value: str | None) -> str | None:
    """Only paths inside the console are followed after log-in (no open redirect)."""
    if not value or len(value) > 1000:
        return None
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029" for ch in value):
        return None  # CR/LF and other control characters would break the Location header
    if not value.startswith("/console/") or value.startswith("//") or "\\" in value:
        return None
    if value.startswith(("/console/login", "/console/logout")):
        return None
    return value


def client_ip(request: web.Request) -> str:
    if console_of(request).config.trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return (request.remote or "unknown")[:64]


def form_data(request: web.Request) -> dict[str, str]:
    """The POSTed form as plain strings (the middleware has already read and checked it)."""
    return request.get(FORM, {})


# ---- responses --------------------------------------------------------------------------------------


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    console = console_of(request)
    session = request.get(SESSION)
    values = {
        "staff": current_staff(request),
        "csrf_token": session.csrf if session else "",
        "flashes": session.pop_flashes() if session else [],
        "path": request.path,
        **context,
    }
    body = console.env.get_template(template).render(values)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def redirect(location: str) -> web.Response:
    """303 See Other (a POST followed by a GET of ``location``)."""
    return web.Response(status=303, headers={"Location": location})


def error_page(request: web.Request, status: int, message: str | None = None) -> web.Response:
    title, default = texts.ERRORS.get(status, texts.ERRORS[400 if status < 500 else 500])
    try:
        page = {"status": status, "heading": title, "message": message or default, "request_id": request_id.get()}
        return render(request, "error.html", page, status=status)
    except Exception:  # the template itself failed: still answer plainly
        log.exception("console error page failed")
        return web.Response(text=f"{status} {title}: {message or default}", status=status, charset="utf-8")


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


# ---- middleware -------------------------------------------------------------------------------------


async def _read_form(request: web.Request) -> dict[str, str]:
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise fail(413)
    ctype = request.content_type
    if ctype not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        raise fail(415)
    raw = await request.content.read(MAX_FORM_BYTES + 1)
    if len(raw) > MAX_FORM_BYTES:
        raise fail(413)
    if ctype == "multipart/form-data":
        raise fail(415)
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise fail(400) from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


async def _load_staff(console: Console, session: ConsoleSession) -> StaffInfo | None:
    if session.staff_id is None:
        return None
    async with console.services.database.session() as db:
        if await is_revoked(db, session.csrf):  # logged out: the cookie is dead even if copied before
            return None
        staff = await get_staff(db, session.staff_id)
    if staff is None or not staff.active or staff.session_version != session.version:
        return None
    return staff


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = console_of(request)
    try:
        await console.load_keys()
    except Exception:
        log.exception("console signing key unavailable (database down?)")
        return web.Response(status=503, text=texts.UNAVAILABLE, charset="utf-8")
    now = console.services.now()
    session = console.codec.loads(request.cookies.get(COOKIE_NAME), now)
    had_login = session is not None and session.staff_id is not None
    if session is None:
        had_login = COOKIE_NAME in request.cookies
        session = ConsoleSession.fresh(now)
    request[SESSION] = session
    response: web.StreamResponse
    try:
        staff = await _load_staff(console, session)
        if staff is None and session.staff_id is not None:
            session = ConsoleSession.fresh(now)
            request[SESSION] = session
        if staff is None and had_login and request.method == "GET":
            session.flash(texts.SESSION_ENDED, "warning")
        request[STAFF] = staff
        routing_error = request.match_info.http_exception
        if routing_error is not None:
            raise routing_error
        if request.method == "POST" and staff is None and request.path != LOGIN_PATH:
            if request.path == LOGOUT_PATH:  # nobody to log out: nothing to protect
                raise web.HTTPSeeOther(LOGIN_PATH)
            raise fail(401, texts.SESSION_ENDED if had_login else texts.LOGIN_REQUIRED)
        if request.method == "POST":
            form = await _read_form(request)
            request[FORM] = form
            if not session.csrf_matches(form.get(CSRF_FIELD)):
                raise fail(403, texts.CSRF_FAILED)
        response = await handler(request)
    except ConsoleError as exc:
        response = error_page(request, exc.status, exc.message)
    except web.HTTPRedirection as exc:
        response = web.Response(status=exc.status, headers={"Location": exc.location or "/console/"})
    except web.HTTPException as exc:
        response = error_page(request, exc.status)
        if exc.status == 405:
            response.headers["Allow"] = exc.headers.get("Allow", "")
    except Exception:
        log.exception("console request failed: %s %s", request.method, request.path)
        response = error_page(request, 500)
    session = request[SESSION]
    if session.changed or not request.cookies.get(COOKIE_NAME):
        response.set_cookie(
            COOKIE_NAME,
            console.codec.dumps(session),
            max_age=console.config.session_max_age_seconds,
            path="/console",
            httponly=True,
            samesite="Lax",
            secure=console.secure_cookies,
        )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# ---- photo tokens -----------------------------------------------------------------------------------


def photo_token(request: web.Request, case_no: str, photo_id: int) -> str:
    return console_of(request).photo_tokens.dumps([case_no, photo_id])


def read_photo_token(request: web.Request, token: str) -> tuple[str, int]:
    if len(token) > 300:
        raise fail(404)
    try:
        case_no, photo_id = console_of(request).photo_tokens.loads(token)
    except (BadSignature, TypeError, ValueError):
        raise fail(404) from None
    if not isinstance(case_no, str) or not isinstance(photo_id, int):
        raise fail(404)
    return case_no, photo_id


# ---- static files -----------------------------------------------------------------------------------

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


async def static_file(request: web.Request) -> web.Response:
    """The console's own stylesheet and icons: only files that exist in static/, by plain name."""
    name = request.match_info["name"]
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        raise fail(404)
    return web.Response(
        body=path.read_bytes(),
        content_type=STATIC_TYPES[path.suffix],
        charset="utf-8" if path.suffix == ".css" else None,
        headers={"Cache-Control": "public, max-age=3600"},
    )
