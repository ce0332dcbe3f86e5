"""The page behind a reminder's url: the digest's full text (template fields hold 20 characters only).

``/reminders/m/<token>``: the token is a random 22-character value stored with the message, so the page
shows one message to whoever holds its link and nothing else; no openid or contact detail is shown.
"""

from __future__ import annotations

import html
import re

from aiohttp import web
from sqlalchemy import select

from bot import texts
from bot.services import SERVICES
from storage.models.reminders import ReminderMessage

TOKEN = re.compile(r"[A-Za-z0-9_-]{10,32}")
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font:16px/1.6 sans-serif;margin:1.2em;max-width:40em}}p{{margin:.4em 0}}</style>
</head><body><h1>{title}</h1>{body}</body></html>
"""


def render_page(title: str, lines: list[str]) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return PAGE.format(title=html.escape(title), body=body)


async def reminder_page(request: web.Request) -> web.Response:

    token = request.match_info["token"]
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    detail = None
    if TOKEN.fullmatch(token):
        async with request.app[SERVICES].database.session() as session:
            payload = await session.scalar(select(ReminderMessage.payload).where(ReminderMessage.view_token == token))
        detail = (payload or {}).get("detail")
    if not detail:
        page = render_page(texts.REMINDER_PAGE_TITLE, [texts.REMINDER_PAGE_MISSING])
        return web.Response(text=page, status=404, content_type="text/html", headers=headers)
    page = render_page(texts.REMINDER_PAGE_TITLE, str(detail).splitlines())
    return web.Response(text=page, content_type="text/html", headers=headers)


def setup_reminders(app: web.Application) -> None:
    app.router.add_get("/reminders/m/{token}", reminder_page)
