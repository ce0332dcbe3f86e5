"""``/privacy``: the privacy notice as a public web page (the same text the chat sends at ``隐私``)."""

from __future__ import annotations

from html import escape

from aiohttp import web

from bot import texts
from bot.config import Config
from bot.privacy.notice import notice_text


def render_page(config: Config) -> str:
    lines = notice_text(config).splitlines()
    paragraphs = "\n".join(f"<p>{escape(line)}</p>" for line in lines[1:])
    title = escape(texts.PRIVACY_PAGE_TITLE)
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} · {escape(texts.ACCOUNT_NAME)}</title></head>\n"
        f"<body><main><h1>{title}</h1>\n{paragraphs}\n</main></body></html>\n"
    )


def setup_privacy_page(app: web.Application, config: Config) -> None:
    body = render_page(config)

    async def privacy_page(request: web.Request) -> web.Response:
        return web.Response(
            text=body,
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"},
        )

    app.router.add_get("/privacy", privacy_page)
