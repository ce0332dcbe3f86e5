"""Keys and signed URLs: plaintext refused once a key is set, key rotation, one body per signed URL."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot import texts
from bot.wechat import push
from bot.wechat.push import PushSigner
from storage.models import ProcessedMessage
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.wx import WxClient

OLD_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
NEW_KEY = "YRJ6hmG/XBD6ZDqqCtn2inG0xhfL1KcAjj1CzHmWc2c"


async def post(service: RunningService, query: dict[str, str], body: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(f"{service.url}/wechat", params=query, data=body) as resp:
        return resp.status, await resp.text()


async def processed(service: RunningService) -> int:
    async with service.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)


async def test_with_a_key_plaintext_is_refused_unless_allowed_explicitly(
    tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock  # type: ignore[no-untyped-def]
) -> None:
    running = await start_service(make_config(tmp_path / "a", sqlite_url), knowledge_base, clock)
    try:
        assert (await running.wx.send_text("user-p", "帮助", mode="plaintext")).status == 403
        assert (await running.wx.send_text("user-p", "帮助", mode="safe")).content == texts.HELP
    finally:
        await stop_service(running)
    allowed = make_config(tmp_path / "b", sqlite_url, YCBOT_WECHAT_REQUIRE_ENCRYPTION="false")
    running = await start_service(allowed, knowledge_base, clock)
    try:
        assert (await running.wx.send_text("user-p", "帮助", mode="plaintext")).content == texts.HELP
    finally:
        await stop_service(running)


async def test_previous_key_is_read_and_answered_with_the_key_that_worked(
    tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock  # type: ignore[no-untyped-def]
) -> None:
    config = make_config(
        tmp_path, sqlite_url, YCBOT_WECHAT_ENCODING_AES_KEY=NEW_KEY, YCBOT_WECHAT_PREVIOUS_ENCODING_AES_KEY=OLD_KEY
    )
    running = await start_service(config, knowledge_base, clock)
    old = WxClient(running.url, PushSigner(config.wechat.token, OLD_KEY, config.wechat.app_id), clock)
    unknown_key = "A" * 43
    stranger = WxClient(running.url, PushSigner(config.wechat.token, unknown_key, config.wechat.app_id), clock)
    try:
        assert (await running.wx.send_text("user-new", "帮助")).content == texts.HELP  # new key
        assert (await old.send_text("user-old", "帮助")).content == texts.HELP  # opened with the old key
        assert (await stranger.send_text("user-x", "帮助")).status == 400
    finally:
        await old.close()
        await stranger.close()
        await stop_service(running)


async def test_a_signed_url_replayed_with_another_body_is_refused(service: RunningService) -> None:
    """The captured URL of a plaintext push, reused with another openid's body within 5 minutes: 403."""
    ts = int(service.clock().timestamp())
    first = push.text_xml(service.wx.account, "user-victim", "我的举报", create_time=ts)
    signed = service.wx.signer.request(first, "plaintext", timestamp=ts, nonce="424242", openid="user-victim")
    status, reply = await post(service, signed.query, signed.body)
    assert status == 200
    # WeChat's retry: the same URL and the same body gets the same stored reply.
    assert await post(service, signed.query, signed.body) == (200, reply)
    forged = push.text_xml(service.wx.account, "user-attacker", "我的举报", create_time=ts)
    assert (await post(service, signed.query, forged.encode("utf-8")))[0] == 403
    assert await processed(service) == 1


async def test_a_safe_mode_url_replayed_with_another_body_is_refused(service: RunningService) -> None:
    """In safe mode msg_signature covers the encrypted message: a captured URL carrying another encrypted
    message (another openid's) is refused, and WeChat's retry of the same push gets the stored reply."""
    ts = int(service.clock().timestamp())
    first = push.text_xml(service.wx.account, "user-victim", "我的举报", create_time=ts, msg_id="1001")
    signed = service.wx.signer.request(first, "safe", timestamp=ts, nonce="434343")
    status, reply = await post(service, signed.query, signed.body)
    assert status == 200 and "我的举报" not in reply  # encrypted
    retry_status, retry = await post(service, signed.query, signed.body)
    # the stored reply again (encrypted afresh: compare what it says)
    assert retry_status == 200 and service.wx.signer.open_reply(retry) == service.wx.signer.open_reply(reply)
    other = push.text_xml(service.wx.account, "user-attacker", "我的举报", create_time=ts, msg_id="1002")
    forged = service.wx.signer.request(other, "safe", timestamp=ts, nonce="434343")
    assert (await post(service, signed.query, forged.body))[0] == 403
    assert await processed(service) == 1
