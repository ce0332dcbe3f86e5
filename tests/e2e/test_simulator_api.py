"""The simulator's page and JSON API over real HTTP: each action becomes a real signed push to /wechat."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot import menu, texts
from bot.privacy.notice import welcome_text
from bot.simulator import driver as sim_driver
from storage.models import ProcessedMessage, WechatUser
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, tiny PNG made here (no fixture files)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x2e\x8b\x57" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def api(service: RunningService, action: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes | str) else {"json": body}
        async with http.post(f"{service.url}/simulator/api/{action}", **kwargs) as resp:
            return resp.status, await resp.json()


async def feed(service: RunningService, openid: str, after: int | str = 0) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(
        f"{service.url}/simulator/api/messages", params={"openid": openid, "after": str(after)}
    ) as resp:
        return resp.status, await resp.json()


async def upload(service: RunningService, openid: str | None, content: bytes | None,
                 filename: str = "photo.png") -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    if openid is not None:
        form.add_field("openid", openid)
    if content is not None:
        form.add_field("photo", io.BytesIO(content), filename=filename, content_type="image/png")
    async with aiohttp.ClientSession() as http, http.post(f"{service.url}/simulator/api/photo", data=form) as resp:
        return resp.status, await resp.json()


async def processed_for(service: RunningService, openid: str) -> list[str]:
    async with service.services.database.session() as session:
        return list(await session.scalars(select(ProcessedMessage.dedup_key).where(ProcessedMessage.openid == openid)))


async def test_page_is_served_with_menu_and_assets(service: RunningService) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{service.url}/simulator") as resp:
            assert resp.status == 200
            assert resp.content_type == "text/html"
            html = await resp.text()
        for button in menu.build_menu()["button"]:
            assert button["name"] in html
            for sub in button["sub_button"]:
                assert f'data-key="{sub["key"]}"' in html
        assert texts.ACCOUNT_NAME in html
        assert 'value="35.03"' in html and 'value="111.01"' in html
        assert "安全模式" in html
        assert "http://" not in html.replace('href="http', "")  # no CDN or external asset
        for asset in ("simulator.js", "simulator.css"):
            start = html.index(f"/simulator/static/{asset}")
            url = html[start:html.index('"', start)]
            async with http.get(f"{service.url}{url}") as resp:
                assert resp.status == 200, url


async def test_text_goes_through_the_callback(service: RunningService) -> None:
    status, body = await api(service, "text", {"openid": "sim-text", "content": "帮助"})
    assert status == 200, body
    assert body["status"] == 200
    assert body["reply"] == {"type": "text", "content": texts.HELP}
    assert body["sent"] == {"type": "text", "content": "帮助"}
    keys = await processed_for(service, "sim-text")
    assert len(keys) == 1 and keys[0].startswith("m:sim-text:")


async def test_location_click_subscribe_and_unsubscribe(service: RunningService) -> None:
    status, body = await api(service, "subscribe", {"openid": "sim-ev"})
    assert (status, body["reply"]["content"]) == (200, welcome_text(service.config))
    service.clock.advance(seconds=1)
    status, body = await api(service, "click", {"openid": "sim-ev", "key": menu.KEY_HELP})
    assert (status, body["reply"]["content"]) == (200, texts.HELP)
    assert body["sent"]["name"] == texts.MENU_HELP
    status, body = await api(service, "location",
                             {"openid": "sim-ev", "latitude": "35.03", "longitude": 111.01, "label": "盐湖区"})
    assert status == 200 and body["reply"]["type"] == "text"
    async with service.services.database.session() as session:
        user = await session.get(WechatUser, "sim-ev")
    assert user is not None and not hasattr(user, "last_latitude")  # no position kept on the follower
    service.clock.advance(seconds=1)
    status, body = await api(service, "unsubscribe", {"openid": "sim-ev"})
    assert (status, body["reply"]) == (200, None)
    assert len(await processed_for(service, "sim-ev")) == 4


async def test_photo_is_stored_as_sandbox_media_and_pushed_as_image(service: RunningService) -> None:
    content = png_bytes()
    status, body = await upload(service, "sim-photo", content)
    assert status == 200, body
    assert body["sent"]["type"] == "image" and body["sent"]["content_type"] == "image/png"
    media = await service.services.mp_account().download_media(body["sent"]["media_id"])
    assert media.content == content and media.content_type == "image/png"
    assert len(await processed_for(service, "sim-photo")) == 1


async def test_feed_shows_what_the_service_pushed_in_order(service: RunningService) -> None:
    mp, wecom = service.services.channel("mp"), service.services.channel("wecom")
    for openid in ("sim-feed", "someone-else"):  # the strict sandbox sends only inside a user's window
        await service.wx.send_text(openid, "帮助")
    await mp.send_text("sim-feed", "您的举报已受理")
    await mp.send_text("someone-else", "不是给你的")
    await mp.send_template("sim-feed", "sandbox-template",
                           {"thing1": "任务提醒", "time2": {"value": "2026-12-01 09:00"}},
                           url="http://127.0.0.1:8080/t/1")
    await wecom.send_text("sim-feed", "企业微信通知")

    status, body = await feed(service, "sim-feed")
    assert status == 200
    items = body["messages"]
    assert [i["kind"] for i in items] == ["text", "template", "text"]
    assert items[0]["label"] == texts.SIM_KIND_TEXT and items[0]["lines"] == ["您的举报已受理"]
    assert items[1]["label"] == texts.SIM_KIND_TEMPLATE
    assert items[1]["lines"] == ["事项：任务提醒", "截止时间：2026-12-01 09:00"]
    assert items[1]["url"] == "http://127.0.0.1:8080/t/1"
    assert items[2]["channel"] == "企业微信"
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    assert body["last_id"] == items[-1]["id"]

    status, later = await feed(service, "sim-feed", body["last_id"])
    assert (status, later["messages"], later["last_id"]) == (200, [], body["last_id"])
    await mp.send_text("sim-feed", "新消息")
    status, later = await feed(service, "sim-feed", body["last_id"])
    assert [i["lines"] for i in later["messages"]] == [["新消息"]]


async def test_feed_labels_a_configured_template(service: RunningService) -> None:
    from bot.outbound.notify import message_payload

    fields = {"事项": "新举报 YC20261204-0007", "截止时间": date(2026, 12, 10), "状态": "待受理",
              "单位": "市生态环境局"}
    _kind, payload = message_payload(service.services.config, "mp", title="", fields=fields, detail="", url="")
    await service.wx.send_text("sim-tpl", "帮助")  # the strict sandbox sends only to followers
    await service.services.channel("mp").send_template("sim-tpl", payload["template_id"], payload["data"])
    status, body = await feed(service, "sim-tpl")
    assert status == 200
    [item] = body["messages"]
    assert item["title"] == texts.REMINDER_TITLE
    shown = {**fields, "截止时间": "2026年12月10日 23:59"}  # a time-typed key carries a time of day
    assert item["lines"] == [f"{label}：{value}" for label, value in shown.items()]
    assert "sandbox-template" not in str(item) and "thing1" not in str(item)


@pytest.mark.parametrize(
    ("action", "payload", "message"),
    [
        ("text", {"openid": "sim-v", "content": "  "}, texts.SIM_EMPTY_TEXT),
        ("text", {"openid": "sim-v"}, texts.SIM_EMPTY_TEXT),
        ("text", {"openid": "sim-v", "content": "长" * 2001}, texts.SIM_TEXT_TOO_LONG.format(limit=2000)),
        ("text", {"openid": "坏 id", "content": "x"}, texts.SIM_BAD_OPENID),
        ("text", {"openid": "a" * 65, "content": "x"}, texts.SIM_BAD_OPENID),
        ("text", {"openid": 42, "content": "x"}, texts.SIM_BAD_OPENID),
        ("text", {"content": "x"}, texts.SIM_BAD_OPENID),
        ("text", b"{not json", texts.SIM_BAD_JSON),
        ("text", b"[1, 2]", texts.SIM_BAD_JSON),
        ("text", b"\xff\xfe", texts.SIM_BAD_JSON),
        ("text", b'{"openid": "sim-v", "content": "' + b"x" * 20000 + b'"}', texts.SIM_BAD_JSON),
        ("location", {"openid": "sim-v", "latitude": 91, "longitude": 111}, texts.SIM_BAD_LATITUDE),
        ("location", {"openid": "sim-v", "latitude": "NaN", "longitude": 111}, texts.SIM_BAD_LATITUDE),
        ("location", {"openid": "sim-v", "latitude": True, "longitude": 111}, texts.SIM_BAD_LATITUDE),
        ("location", {"openid": "sim-v", "latitude": 35, "longitude": "东经"}, texts.SIM_BAD_LONGITUDE),
        ("location", {"openid": "sim-v", "latitude": 35, "longitude": -180.5}, texts.SIM_BAD_LONGITUDE),
        ("location", {"openid": "sim-v", "latitude": 35, "longitude": "inf"}, texts.SIM_BAD_LONGITUDE),
        ("location", {"openid": "sim-v", "latitude": 35, "longitude": 111, "label": "长" * 101},
         texts.SIM_LABEL_TOO_LONG.format(limit=100)),
        ("click", {"openid": "sim-v", "key": "NO_SUCH_KEY"}, texts.SIM_UNKNOWN_MENU),
        ("click", {"openid": "sim-v"}, texts.SIM_UNKNOWN_MENU),
        ("subscribe", {}, texts.SIM_BAD_OPENID),
    ],
)
async def test_bad_input_is_a_clear_400_and_sends_nothing(service: RunningService, action: str, payload: Any,
                                                           message: str) -> None:
    status, body = await api(service, action, payload)
    assert (status, body) == (400, {"error": message})
    assert await processed_for(service, "sim-v") == []


async def test_bad_photos(tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, sqlite_url, YCBOT_REPORTS_MAX_PHOTO_BYTES="1000")
    running = await start_service(config, knowledge_base, clock)
    try:
        assert await upload(running, "sim-p", b"GIF89a" + b"\x00" * 2000) == (
            413, {"error": texts.SIM_PHOTO_TOO_BIG.format(limit_mb=0.0)})
        assert await upload(running, "sim-p", b"%PDF-1.4 not an image") == (400, {"error": texts.SIM_PHOTO_NOT_IMAGE})
        assert await upload(running, "sim-p", b"") == (400, {"error": texts.SIM_NO_PHOTO})
        assert await upload(running, "sim-p", None) == (400, {"error": texts.SIM_NO_PHOTO})
        assert await upload(running, None, png_bytes()) == (400, {"error": texts.SIM_BAD_OPENID})
        assert await upload(running, "bad id!", png_bytes()) == (400, {"error": texts.SIM_BAD_OPENID})
        status, body = await api(running, "photo", {"openid": "sim-p"})  # JSON instead of a form
        assert (status, body) == (400, {"error": texts.SIM_NO_PHOTO})
        assert await processed_for(running, "sim-p") == []
        assert (await upload(running, "sim-p", png_bytes()))[0] == 200
    finally:
        await stop_service(running)


@pytest.mark.parametrize("params", [{"openid": "sim-f", "after": "-1"}, {"openid": "sim-f", "after": "x"},
                                    {"openid": "sim-f", "after": "²"}, {"openid": "sim-f", "after": "9" * 30},
                                    {"after": "0"}, {"openid": "<script>", "after": "0"}])
async def test_bad_feed_queries_are_400(service: RunningService, params: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/simulator/api/messages",
                                                         params=params) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]


async def test_a_refused_push_is_reported_not_hidden(service: RunningService, monkeypatch: pytest.MonkeyPatch) -> None:
    """If /wechat refuses the push (here: a wrong token), the page gets the callback's status and why."""
    from aiohttp import web

    from bot.simulator.views import DRIVER

    app: web.Application = service.server.app  # type: ignore[assignment]
    monkeypatch.setattr(app[DRIVER].signer, "token", "wrong-token")
    status, body = await api(service, "text", {"openid": "sim-r", "content": "帮助"})
    assert status == 502
    assert body["status"] == 403
    assert body["error"].startswith(texts.SIM_CALLBACK_FAILED.split("（")[0])
    assert await processed_for(service, "sim-r") == []


def test_driver_describes_news_replies() -> None:
    fields = {"MsgType": "news", "Articles": {"item": {"Title": "标题", "Description": "说明", "Url": "u"}}}
    assert sim_driver.describe_reply(fields) == {
        "type": "news", "label": texts.SIM_REPLY_NEWS, "title": "标题", "description": "说明", "url": "u"}


@pytest.mark.parametrize("override", [{"YCBOT_SIMULATOR_ENABLED": "false"}])
async def test_simulator_is_not_mounted_when_disabled(tmp_path: Path, sqlite_url: str, knowledge_base,  # type: ignore[no-untyped-def]
                                                      clock: FakeClock, override: dict[str, str]) -> None:
    config = make_config(tmp_path, sqlite_url, **override)
    running = await start_service(config, knowledge_base, clock)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{running.url}/simulator") as resp:
            assert resp.status == 404
    finally:
        await stop_service(running)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=xyz", b"garbage without any boundary line"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nabc"),
        ("multipart/mixed; boundary=xyz", b"--xyz--\r\n"),
    ],
)
async def test_malformed_uploads_are_400_not_500(service: RunningService, content_type: str, body: bytes) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{service.url}/simulator/api/photo", data=body,
                                                          headers={"Content-Type": content_type}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]


async def test_console_and_simulator_pages_have_a_favicon(service: RunningService) -> None:
    import re

    from PIL import Image

    async with aiohttp.ClientSession() as http:
        for page in ("/simulator", "/console/login"):
            async with http.get(f"{service.url}{page}") as resp:
                html = await resp.text()
            icons = re.findall(r'<link rel="icon" href="([^"]+)"', html)
            assert icons == ["/favicon.svg", "/favicon.ico"], page
        async with http.get(f"{service.url}/favicon.svg") as resp:
            assert resp.status == 200 and resp.content_type == "image/svg+xml"
            assert (await resp.text()).lstrip().startswith("<svg")
        async with http.get(f"{service.url}/favicon.ico") as resp:
            assert resp.status == 200 and resp.content_type == "image/vnd.microsoft.icon"
            body = await resp.read()
    icon = Image.open(io.BytesIO(body))
    assert icon.format == "ICO" and (16, 16) in icon.info["sizes"] and (32, 32) in icon.info["sizes"]
    assert icon.convert("RGBA").getpixel((icon.width // 2, icon.height // 2))[:3] == (255, 255, 255)  # the drop
