"""The simulator's HTTP handlers: the page and its JSON API under /simulator/api/."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import BodyPartReader, web

from bot import menu, texts
from bot.outbound.channels.sandbox import SandboxChannel
from bot.outbound.template_labels import template_specs
from bot.reports.reporter_notice import subscribe_template_id
from bot.services import SERVICES
from bot.simulator import inputs
from bot.simulator.driver import PushOutcome, SimulatorDriver
from bot.simulator.feed import messages_for
from bot.simulator.inputs import InputError
from storage.event_windows import close_windows

DRIVER = web.AppKey("simulator_driver", SimulatorDriver)
STATIC_ROUTE = "simulator-static"
HERE = Path(__file__).resolve().parent
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)

# Yuncheng (运城市区) as the default position in the location form.
DEFAULT_LATITUDE = 35.03
DEFAULT_LONGITUDE = 111.01
DEFAULT_LABEL = "山西省运城市盐湖区"
WINDOW_GONE = timedelta(hours=49)  # older than the 48-hour window


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _menu_keys() -> set[str]:
    return {sub["key"] for button in menu.build_menu()["button"] for sub in button.get("sub_button", [])}


def callback_url(request: web.Request) -> str:
    """The address this very server accepted the request on, so the push reaches the same service."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        host, port = str(sockname[0]), int(sockname[1])
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/wechat"
    return str(request.url.with_path("/wechat").with_query(None))


async def _read_json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > inputs.MAX_JSON_BYTES:
        raise InputError(texts.SIM_BAD_JSON)
    body = bytearray()
    while chunk := await request.content.read(8192):
        body += chunk
        if len(body) > inputs.MAX_JSON_BYTES:
            raise InputError(texts.SIM_BAD_JSON)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(texts.SIM_BAD_JSON) from None
    if not isinstance(data, dict):
        raise InputError(texts.SIM_BAD_JSON)
    return data


async def _deliver(request: web.Request, openid: str, xml: str, sent: dict[str, Any]) -> web.Response:
    outcome: PushOutcome = await request.app[DRIVER].post(callback_url(request), openid, xml)
    outcome.sent = sent
    return web.json_response(outcome.as_json(), status=200 if not outcome.error else 502)


async def page(request: web.Request) -> web.Response:
    config = request.app[SERVICES].config
    static = request.app.router[STATIC_ROUTE]
    html = _templates.get_template("simulator.html").render(
        account_name=texts.ACCOUNT_NAME,
        menu=menu.build_menu()["button"],
        mode=request.app[DRIVER].mode,
        default_latitude=DEFAULT_LATITUDE,
        default_longitude=DEFAULT_LONGITUDE,
        default_label=DEFAULT_LABEL,
        max_photo_bytes=config.reports.max_photo_bytes,
        max_text_chars=inputs.MAX_TEXT_CHARS,
        css_url=str(static.url_for(filename="simulator.css")),
        js_url=str(static.url_for(filename="simulator.js")),
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def send_text(request: web.Request) -> web.Response:
    try:
        data = await _read_json(request)
        openid, content = inputs.openid(data.get("openid")), inputs.text(data.get("content"))
    except InputError as exc:
        return _error(str(exc))
    driver = request.app[DRIVER]
    return await _deliver(request, openid, driver.text(openid, content), {"type": "text", "content": content})


async def send_location(request: web.Request) -> web.Response:
    try:
        data = await _read_json(request)
        openid = inputs.openid(data.get("openid"))
        latitude, longitude = inputs.latitude(data.get("latitude")), inputs.longitude(data.get("longitude"))
        label = inputs.label(data.get("label"))
    except InputError as exc:
        return _error(str(exc))
    xml = request.app[DRIVER].location(openid, latitude, longitude, label)
    sent = {"type": "location", "latitude": latitude, "longitude": longitude, "label": label}
    return await _deliver(request, openid, xml, sent)


async def send_click(request: web.Request) -> web.Response:
    try:
        data = await _read_json(request)
        openid, key = inputs.openid(data.get("openid")), inputs.menu_key(data.get("key"), _menu_keys())
    except InputError as exc:
        return _error(str(exc))
    names = {s["key"]: s["name"] for b in menu.build_menu()["button"] for s in b.get("sub_button", [])}
    xml = request.app[DRIVER].event(openid, "CLICK", key)
    return await _deliver(request, openid, xml, {"type": "click", "key": key, "name": names[key]})


def _event_view(event: str):  # type: ignore[no-untyped-def]
    async def send_event(request: web.Request) -> web.Response:
        try:
            openid = inputs.openid((await _read_json(request)).get("openid"))
        except InputError as exc:
            return _error(str(exc))
        xml = request.app[DRIVER].event(openid, event)
        return await _deliver(request, openid, xml, {"type": "event", "event": event})

    return send_event


async def grant_subscription(request: web.Request) -> web.Response:
    """The case page's 订阅处理结果, accepted: the push WeChat sends (the sandbox has no JS-SDK)."""
    try:
        openid = inputs.openid((await _read_json(request)).get("openid"))
    except InputError as exc:
        return _error(str(exc))
    template_id = subscribe_template_id(request.app[SERVICES].config)
    xml = request.app[DRIVER].subscription_choice(openid, template_id)
    return await _deliver(request, openid, xml, {"type": "event", "event": "subscribe_msg_popup_event"})


async def expire_window(request: web.Request) -> web.Response:
    """Sandbox time passes for this user: their 48-hour and 1-minute windows are over (no push is sent), so
    the next notice shows the routes that work without a window (template, subscription, waiting)."""
    try:
        openid = inputs.openid((await _read_json(request)).get("openid"))
    except InputError as exc:
        return _error(str(exc))
    services = request.app[SERVICES]
    async with services.database.session() as session:
        await close_windows(session, openid, before=services.now() - WINDOW_GONE)
        await session.commit()
    return web.json_response({"ok": True})


async def send_photo(request: web.Request) -> web.Response:
    """multipart/form-data with ``openid`` and ``photo``: stored like WeChat stores a user's upload, then pushed."""
    limit = request.app[SERVICES].config.reports.max_photo_bytes
    too_big = texts.SIM_PHOTO_TOO_BIG.format(limit_mb=round(limit / 1024 / 1024, 1))
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        return _error(too_big, 413)
    if not request.content_type.startswith("multipart/"):
        return _error(texts.SIM_NO_PHOTO)
    openid_value: str | None = None
    content: bytes | None = None
    try:
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "openid":
                raw = await part.read_chunk(256)
                openid_value = raw.decode("utf-8", "replace")
            elif part.name == "photo":
                data = bytearray()
                while chunk := await part.read_chunk(65536):
                    data += chunk
                    if len(data) > limit:
                        return _error(too_big, 413)
                content = bytes(data)
    except (ValueError, AssertionError, UnicodeDecodeError):
        return _error(texts.SIM_NO_PHOTO)
    try:
        openid = inputs.openid(openid_value)
        if content is None:
            raise InputError(texts.SIM_NO_PHOTO)
        content_type = inputs.image_type(content)
    except InputError as exc:
        return _error(str(exc))
    channel = request.app[SERVICES].channels.get("mp")
    if not isinstance(channel, SandboxChannel):
        return _error(texts.SIM_NOT_SANDBOX, 409)
    media_id = "sim" + secrets.token_urlsafe(24)
    await asyncio.to_thread(channel.put_media, media_id, content, content_type)
    xml = request.app[DRIVER].image(openid, media_id)
    sent = {"type": "image", "media_id": media_id, "bytes": len(content), "content_type": content_type}
    return await _deliver(request, openid, xml, sent)


async def list_messages(request: web.Request) -> web.Response:
    try:
        openid = inputs.openid(request.query.get("openid"))
        after = inputs.after_id(request.query.get("after"))
    except InputError as exc:
        return _error(str(exc))
    services = request.app[SERVICES]
    items = await messages_for(services.database, openid, after, template_specs(services.config))
    last = items[-1]["id"] if items else after
    return web.json_response({"messages": items, "last_id": last})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/simulator", page)
    app.router.add_post("/simulator/api/text", send_text)
    app.router.add_post("/simulator/api/location", send_location)
    app.router.add_post("/simulator/api/photo", send_photo)
    app.router.add_post("/simulator/api/click", send_click)
    app.router.add_post("/simulator/api/subscribe", _event_view("subscribe"))
    app.router.add_post("/simulator/api/unsubscribe", _event_view("unsubscribe"))
    app.router.add_post("/simulator/api/grant", grant_subscription)
    app.router.add_post("/simulator/api/expire-window", expire_window)
    app.router.add_get("/simulator/api/messages", list_messages)
    app.router.add_static("/simulator/static/", HERE / "static", name=STATIC_ROUTE, append_version=True)
