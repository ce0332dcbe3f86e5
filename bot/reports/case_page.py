"""``/case/<token>``: a case's public page — status and public reply — with the subscription button.

The token is 256 random bits made when the confirmation after 确认 links to the page
(``storage.notice_deliveries.case_page_token``); nothing else names the case, and the page shows nothing
personal (no description, no place, no reporter). ``<wx-open-subscribe>`` asks the reader, inside WeChat,
to allow one subscription notification (``[notices] subscribe_template_id``); WeChat then pushes
``subscribe_msg_popup_event`` to /wechat and the grant is stored (``bot.reports.notice_fates``). The open
tag needs ``wx.config`` signed with the cached ``jsapi_ticket`` (``bot.wechat.jssdk``) for the page's exact
URL under ``[server] public_base_url``, whose domain must be a JS接口安全域名 of the account.
"""

from __future__ import annotations

import json
import logging
import secrets
from html import escape
from typing import Any

from aiohttp import web

from bot import texts
from bot.outbound.channels.base import ChannelError
from bot.reports.catalog import local_zone, status_label
from bot.reports.reporter_notice import CASE_PAGE_PATH, subscribe_template_id
from bot.services import SERVICES, Services
from bot.wechat.jssdk import PageConfig, page_config
from storage.notice_deliveries import case_of_page
from storage.report_queries import get_report

log = logging.getLogger(__name__)

JSSDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
TOKEN_MAX_CHARS = 64  # a token is 43 characters
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


async def _signed(services: Services, url: str) -> PageConfig | None:
    """``wx.config`` for ``url``, or None in the sandbox or when WeChat would not give a ticket."""
    if services.config.uses_sandbox:
        return None
    channel: Any = services.channel("mp")
    try:
        ticket = await channel.jsapi_ticket()
    except (ChannelError, AttributeError) as exc:
        log.warning("case page without the subscription button: no jsapi_ticket (%s)", exc)
        return None
    return page_config(services.config.wechat.app_id, ticket, url, int(services.now().timestamp()))


def _subscribe_block(template_id: str, signed: PageConfig | None, sandbox: bool, nonce: str) -> str:
    if not template_id or (signed is None and not sandbox):
        return f'<p class="muted">{escape(texts.CASE_PAGE_SUBSCRIBE_OFF)}</p>'
    if signed is None:
        return f'<p class="muted">{escape(texts.CASE_PAGE_SUBSCRIBE_SANDBOX)}</p>'
    wx_config = {
        "debug": False,
        "appId": signed.app_id,
        "timestamp": signed.timestamp,
        "nonceStr": signed.nonce,
        "signature": signed.signature,
        "jsApiList": ["checkJsApi"],
        "openTagList": ["wx-open-subscribe"],
    }
    said = {"ok": texts.CASE_PAGE_SUBSCRIBED, "failed": texts.CASE_PAGE_SUBSCRIBE_FAILED}
    return (
        f'<p>{escape(texts.CASE_PAGE_SUBSCRIBE_HINT)}</p>\n'
        f'<wx-open-subscribe template="{escape(template_id)}" id="subscribe">'
        '<script type="text/wxtag-template"><style>button{font-size:16px;padding:10px 18px}</style>'
        f"<button>{escape(texts.CASE_PAGE_SUBSCRIBE)}</button></script></wx-open-subscribe>\n"
        '<p id="subscribe-result" role="status"></p>\n'
        f'<script src="{JSSDK_URL}"></script>\n'
        f'<script nonce="{nonce}">wx.config({json.dumps(wx_config)});\n'
        f"const said = {json.dumps(said, ensure_ascii=False)};\n"
        'const tag = document.getElementById("subscribe"), out = document.getElementById("subscribe-result");\n'
        'tag.addEventListener("success", (e) => { out.textContent = said.ok; });\n'
        'tag.addEventListener("error", (e) => { out.textContent = said.failed; });</script>'
    )


async def case_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    token = request.match_info["token"]
    async with services.database.session() as session:
        readable = len(token) <= TOKEN_MAX_CHARS and set(token) <= TOKEN_CHARS  # never query with anything else
        case_no = await case_of_page(session, token) if readable else None
        report = await get_report(session, case_no) if case_no else None
    if report is None or report.case_no is None:
        raise web.HTTPNotFound(text=texts.CASE_PAGE_MISSING)
    config = services.config
    url = f"{config.server.public_base_url.rstrip('/')}{request.path_qs}"
    signed = await _signed(services, url)
    nonce = secrets.token_urlsafe(12)
    reply = report.public_reply or texts.CASE_PAGE_NO_REPLY
    if report.status == "rejected":
        reply = texts.CASE_PAGE_REJECTED.format(reason=report.reject_reason, authority=report.competent_authority)
    submitted = report.created_at.astimezone(local_zone(services)).strftime("%Y-%m-%d %H:%M")
    title = escape(texts.CASE_PAGE_TITLE.format(case_no=report.case_no))
    body = (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} · {escape(texts.ACCOUNT_NAME)}</title></head>\n<body><main>\n"
        f"<h1>{title}</h1>\n"
        f'<p>{escape(texts.CASE_PAGE_STATUS)}：<strong id="status">{escape(status_label(report.status))}</strong></p>\n'
        f"<p>{escape(texts.CASE_PAGE_SUBMITTED)}：{submitted}</p>\n"
        f'<h2>{escape(texts.CASE_PAGE_REPLY)}</h2>\n<p id="reply">{escape(reply)}</p>\n'
        f"{_subscribe_block(subscribe_template_id(config), signed, config.uses_sandbox, nonce)}\n"
        f"<p>{escape(texts.CASE_PAGE_QUERY.format(case_no=report.case_no))}</p>\n</main></body></html>\n"
    )
    csp = (
        f"default-src 'none'; script-src 'nonce-{nonce}' https://res.wx.qq.com; style-src 'unsafe-inline'; "
        "connect-src https:; frame-src https:; img-src https: data:; base-uri 'none'; form-action 'none'"
    )
    headers = {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",  # the path is the key to the page: never sent on
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return web.Response(text=body, content_type="text/html", charset="utf-8", headers=headers)


def setup_case_page(app: web.Application) -> None:
    app.router.add_get(CASE_PAGE_PATH + "{token}", case_page)
