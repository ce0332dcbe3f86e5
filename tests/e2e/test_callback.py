"""The callback end to end over real HTTP: verification, the three modes, retries, events, replies, failures.

A test-only router (``probe``) goes in front of the service's own routers: it writes a row in the handler's
transaction, so a test can count how many times a push took effect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

import handlers
from bot import texts
from bot.context import Context
from bot.privacy.notice import welcome_text
from bot.routing import HandlerResult, Router, text_is
from bot.wechat import push
from bot.wechat.messages import parse_xml
from bot.wechat.push import PushSigner
from bot.wechat.replies import cdata
from storage.models import Conversation, ProcessedMessage, SandboxMessage, WechatUser
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.wx import WxClient

probe = Router("e2e-probe")
TRICKY = "结果 ]]> 与 <xml><Content>伪造</Content></xml> ]]]]> 完"


@probe.on(text_is("计数"))
async def count_once(ctx: Context) -> HandlerResult:
    """One effect per push: a row in the handler's transaction and a counter in the conversation."""
    ctx.session.add(SandboxMessage(channel="probe", kind="effect", recipient=ctx.openid, payload={}))
    n = int(ctx.conversation.data.get("n", 0)) + 1
    ctx.conversation.set("probe:counting", n=n)
    return f"第{n}次"


@probe.on(text_is("出错"))
async def explode(ctx: Context) -> HandlerResult:
    ctx.session.add(SandboxMessage(channel="probe", kind="effect", recipient=ctx.openid, payload={}))
    ctx.conversation.set("probe:broken", n=99)
    raise RuntimeError("probe handler failure")


@probe.on(text_is("转义"))
async def tricky(ctx: Context) -> HandlerResult:
    return TRICKY


@pytest.fixture
def with_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    original = handlers.all_routers
    monkeypatch.setattr(handlers, "all_routers", lambda: [probe, *original()])


@pytest.fixture
async def service(with_probe: None, config, knowledge_base, clock: FakeClock) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    running = await start_service(config, knowledge_base, clock)
    yield running
    await stop_service(running)


async def count(service: RunningService, model: type, **where: object) -> int:
    async with service.services.database.session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


async def effects(service: RunningService, openid: str) -> int:
    return await count(service, SandboxMessage, channel="probe", recipient=openid)


def ts(clock: FakeClock) -> int:
    return int(clock().timestamp())


# ---- GET verification ------------------------------------------------------------------------------

async def get(url: str, params: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/wechat", params=params) as resp:
        return resp.status, await resp.text()


async def test_echostr_verification(service: RunningService) -> None:
    signed = service.wx.signer.request("<xml/>", "plaintext", timestamp=ts(service.clock), nonce="12345")
    query = {k: signed.query[k] for k in ("signature", "timestamp", "nonce")}
    status, body = await get(service.url, {**query, "echostr": "4375120948345356249"})
    assert (status, body) == (200, "4375120948345356249")

    forged = {**query, "signature": "0" * 40, "echostr": "1"}
    assert (await get(service.url, forged))[0] == 403
    assert (await get(service.url, {"echostr": "1"}))[0] == 403
    assert (await get(service.url, query))[0] == 400  # no echostr

    stale = service.wx.signer.request("<xml/>", "plaintext", timestamp=ts(service.clock) - 301, nonce="1")
    assert (await get(service.url, {**stale.query, "echostr": "1"}))[0] == 403


async def test_documented_get_example_over_http(tmp_path: Path, sqlite_url: str, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    """token AAAAA, timestamp 1714036504, nonce 1514711492 → the documented signature is accepted."""
    config = make_config(tmp_path, sqlite_url, YCBOT_WECHAT_TOKEN="AAAAA")
    clock = FakeClock(datetime.fromtimestamp(1714036504 + 30, UTC))
    running = await start_service(config, knowledge_base, clock)
    try:
        params = {
            "signature": "f464b24fc39322e44b38aa78f5edd27bd1441696",
            "timestamp": "1714036504",
            "nonce": "1514711492",
            "echostr": "4375120948345356249",
        }
        assert await get(running.url, params) == (200, "4375120948345356249")
        assert (await get(running.url, {**params, "nonce": "1514711493"}))[0] == 403
    finally:
        await stop_service(running)


async def test_fixed_vector_over_http(tmp_path: Path, sqlite_url: str, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    """The documented safe-mode push is accepted as is and answered with a reply wechatpy can open."""
    from wechatpy.crypto import WeChatCrypto

    from tests.unit.test_wechat_protocol import (
        VEC_APPID,
        VEC_ENCRYPT,
        VEC_KEY,
        VEC_NONCE,
        VEC_SIGNATURE,
        VEC_TIMESTAMP,
        VEC_TOKEN,
    )

    config = make_config(tmp_path, sqlite_url, YCBOT_WECHAT_TOKEN=VEC_TOKEN, YCBOT_WECHAT_ENCODING_AES_KEY=VEC_KEY,
                         YCBOT_WECHAT_APP_ID=VEC_APPID)
    clock = FakeClock(datetime.fromtimestamp(int(VEC_TIMESTAMP) + 5, UTC))
    running = await start_service(config, knowledge_base, clock)
    try:
        query = {
            "signature": PushSigner(VEC_TOKEN).request("<xml/>", "plaintext", timestamp=int(VEC_TIMESTAMP),
                                                       nonce=VEC_NONCE).query["signature"],
            "timestamp": VEC_TIMESTAMP,
            "nonce": VEC_NONCE,
            "encrypt_type": "aes",
            "msg_signature": VEC_SIGNATURE,
        }
        body = f"<xml><ToUserName>{cdata(VEC_APPID)}</ToUserName><Encrypt>{cdata(VEC_ENCRYPT)}</Encrypt></xml>"
        async with aiohttp.ClientSession() as http, http.post(f"{running.url}/wechat", params=query,
                                                              data=body.encode()) as resp:
            assert resp.status == 200
            reply = await resp.text()
        fields = parse_xml(reply.encode())
        opened = WeChatCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID).decrypt_message(
            f"<xml><Encrypt>{cdata(fields['Encrypt'])}</Encrypt></xml>", fields["MsgSignature"],
            fields["TimeStamp"], fields["Nonce"])
        inner = parse_xml(opened.encode())
        assert inner["ToUserName"] == "messense" and inner["MsgType"] == "text" and inner["Content"]
        assert await count(running, ProcessedMessage, dedup_key="m:messense:4363689963896700987") == 1
    finally:
        await stop_service(running)


# ---- the three modes --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
async def test_each_mode_answers_help(service: RunningService, mode: str) -> None:
    reply = await service.wx.send_text(f"user-{mode}", "帮助", mode=mode)
    assert reply.status == 200
    assert reply.content == texts.HELP
    assert reply.fields["ToUserName"] == f"user-{mode}"
    assert reply.fields["FromUserName"] == service.wx.account
    envelope = parse_xml(reply.body.encode())
    if mode == "plaintext":
        assert "Encrypt" not in envelope
    else:
        assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}


async def test_subscribe_welcomes_and_unsubscribe_is_answered_with_success(service: RunningService) -> None:
    reply = await service.wx.send_event("fan-1", "subscribe")
    assert reply.content == welcome_text(service.config)  # what the account does, then the privacy notice
    service.clock.advance(seconds=5)
    bye = await service.wx.send_event("fan-1", "unsubscribe")
    assert (bye.status, bye.body) == (200, "success")
    async with service.services.database.session() as session:
        user = await session.get(WechatUser, "fan-1")
    assert user is not None and user.subscribed is False


# ---- retries and dedup ------------------------------------------------------------------------------

async def test_retry_gets_identical_reply_and_one_effect(service: RunningService) -> None:
    msg_id = push.next_msg_id()
    first = await service.wx.send_text("user-r", "计数", msg_id=msg_id)
    service.clock.advance(seconds=5)  # WeChat retries 5 s later; a re-rendered reply would differ
    second = await service.wx.send_text("user-r", "计数", msg_id=msg_id)
    service.clock.advance(seconds=5)
    third = await service.wx.send_text("user-r", "计数", msg_id=msg_id)
    assert first.content == "第1次"
    assert first.xml == second.xml == third.xml
    assert await effects(service, "user-r") == 1
    assert await count(service, ProcessedMessage, dedup_key=f"m:user-r:{msg_id}") == 1
    async with service.services.database.session() as session:
        conversation = await session.get(Conversation, "user-r")
    assert conversation is not None and conversation.data == {"n": 1}

    fresh = await service.wx.send_text("user-r", "计数")  # a new MsgId is a new message
    assert fresh.content == "第2次"
    assert await effects(service, "user-r") == 2


async def test_same_msg_id_from_another_user_is_another_message(service: RunningService) -> None:
    msg_id = push.next_msg_id()
    assert (await service.wx.send_text("user-a", "计数", msg_id=msg_id)).content == "第1次"
    assert (await service.wx.send_text("user-b", "计数", msg_id=msg_id)).content == "第1次"
    assert await effects(service, "user-a") == await effects(service, "user-b") == 1


async def test_retry_in_another_mode_replays_the_same_reply(service: RunningService) -> None:
    msg_id = push.next_msg_id()
    first = await service.wx.send_text("user-m", "计数", msg_id=msg_id, mode="safe")
    second = await service.wx.send_text("user-m", "计数", msg_id=msg_id, mode="plaintext")
    assert first.xml == second.xml
    assert await effects(service, "user-m") == 1


async def test_event_dedup_by_user_time_event_and_key(service: RunningService) -> None:
    first = await service.wx.send_event("fan-e", "subscribe")
    again = await service.wx.send_event("fan-e", "subscribe")  # same CreateTime: a retry
    assert first.xml == again.xml
    assert await count(service, ProcessedMessage, openid="fan-e") == 1

    await service.wx.send_event("fan-e", "subscribe", "qrscene_1")  # same time, another EventKey
    assert await count(service, ProcessedMessage, openid="fan-e") == 2
    await service.wx.click("fan-e", "HELP")  # same time, another Event
    await service.wx.click("fan-e", "HELP")
    assert await count(service, ProcessedMessage, openid="fan-e") == 3
    service.clock.advance(seconds=1)  # a later click of the same button is a new event
    assert (await service.wx.click("fan-e", "HELP")).content == texts.HELP
    assert await count(service, ProcessedMessage, openid="fan-e") == 4


async def test_concurrent_retries_take_effect_once(service: RunningService) -> None:
    msg_id = push.next_msg_id()
    replies = await asyncio.gather(*(service.wx.send_text("user-c", "计数", msg_id=msg_id) for _ in range(10)))
    assert {r.status for r in replies} == {200}
    assert {r.xml for r in replies} == {replies[0].xml}
    assert replies[0].content == "第1次"
    assert await effects(service, "user-c") == 1
    assert await count(service, ProcessedMessage, openid="user-c") == 1


# ---- replies and failures ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_cdata_terminator_in_reply_is_escaped(service: RunningService, mode: str) -> None:
    reply = await service.wx.send_text("user-x", "转义", mode=mode)
    assert reply.content == TRICKY
    assert set(reply.fields) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}
    assert reply.msg_type == "text"


async def test_handler_error_gets_polite_reply_traceback_and_same_reply_on_retry(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    msg_id = push.next_msg_id()
    with caplog.at_level(logging.ERROR):
        first = await service.wx.send_text("user-err", "出错", msg_id=msg_id)
    assert first.status == 200
    assert first.content == texts.HANDLER_ERROR
    failures = [r for r in caplog.records if r.exc_info and "probe handler failure" in str(r.exc_info[1])]
    assert failures, "the traceback must be logged"
    assert "user-err" not in caplog.text  # openids stay out of logs

    service.clock.advance(seconds=5)
    retry = await service.wx.send_text("user-err", "出错", msg_id=msg_id)
    assert retry.xml == first.xml
    assert await effects(service, "user-err") == 0  # the handler's writes were rolled back
    async with service.services.database.session() as session:
        conversation = await session.get(Conversation, "user-err")
    assert conversation is None or conversation.state is None
    assert await count(service, ProcessedMessage, dedup_key=f"m:user-err:{msg_id}") == 1
    # The user can go on: the next message works.
    assert (await service.wx.send_text("user-err", "帮助")).content == texts.HELP


async def test_pipeline_failure_outside_the_handler_is_still_a_polite_reply(
    service: RunningService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.pipeline import MessagePipeline
    from storage.hotpath import HotPath

    async def broken(*args: object) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(MessagePipeline, "_claim", broken)  # the full path
    monkeypatch.setattr(HotPath, "begin", broken)  # the driver-direct path ("帮助" takes it)
    with caplog.at_level(logging.ERROR):
        reply = await service.wx.send_text("user-db", "帮助")
    assert (reply.status, reply.content) == (200, texts.HANDLER_ERROR)
    assert any(r.exc_info for r in caplog.records)


def other_type_xml(clock: FakeClock, openid: str, msg_type: str, inner: str) -> str:
    return (
        f"<xml><ToUserName>{cdata('gh_test_account')}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{ts(clock)}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{inner}"
        f"<MsgId>{push.next_msg_id()}</MsgId></xml>"
    )


@pytest.mark.parametrize(
    ("msg_type", "inner"),
    [
        ("video", "<MediaId><![CDATA[m1]]></MediaId><ThumbMediaId><![CDATA[t1]]></ThumbMediaId>"),
        ("shortvideo", "<MediaId><![CDATA[m1]]></MediaId><ThumbMediaId><![CDATA[t1]]></ThumbMediaId>"),
        ("link", "<Title><![CDATA[标题]]></Title><Description><![CDATA[d]]></Description>"
                 "<Url><![CDATA[https://example.invalid]]></Url>"),
        ("file", "<Title><![CDATA[a.pdf]]></Title><FileKey><![CDATA[k]]></FileKey><FileMd5><![CDATA[m]]></FileMd5>"),
        ("hologram", "<Payload><![CDATA[???]]></Payload>"),
    ],
)
async def test_unknown_message_types_get_a_helpful_reply(service: RunningService, msg_type: str, inner: str) -> None:
    reply = await service.wx.post_xml(other_type_xml(service.clock, "user-u", msg_type, inner), openid="user-u")
    assert reply.status == 200
    assert reply.content == texts.UNSUPPORTED_TYPE


async def test_image_and_location_outside_a_dialog_are_answered(service: RunningService) -> None:
    image = await service.wx.send_image("user-i", "media1")
    location = await service.wx.send_location("user-i", 35.03, 111.01, "运城市盐湖区")
    assert image.status == location.status == 200
    assert image.content and image.content != texts.HELP
    assert location.content and location.content != texts.HELP
    async with service.services.database.session() as session:
        user = await session.get(WechatUser, "user-i")
    assert user is not None and not hasattr(user, "last_latitude")  # no position kept on the follower


async def test_healthz(service: RunningService) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/healthz") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert body["status"] == "ok"
    assert body["sandbox"] is True


async def test_require_encryption_refuses_plaintext(tmp_path: Path, sqlite_url: str, knowledge_base,  # type: ignore[no-untyped-def]
                                                    clock: FakeClock) -> None:
    config = make_config(tmp_path, sqlite_url, YCBOT_WECHAT_REQUIRE_ENCRYPTION="true")
    running = await start_service(config, knowledge_base, clock)
    try:
        assert (await running.wx.send_text("user-p", "帮助", mode="plaintext")).status == 403
        assert (await running.wx.send_text("user-p", "帮助", mode="safe")).content == texts.HELP
        assert (await running.wx.send_text("user-p", "帮助", mode="compatible")).content == texts.HELP
        assert await count(running, ProcessedMessage, openid="user-p") == 2
    finally:
        await stop_service(running)


async def test_server_without_aes_key_takes_plaintext_only(tmp_path: Path, sqlite_url: str, knowledge_base,  # type: ignore[no-untyped-def]
                                                            clock: FakeClock) -> None:
    config = make_config(tmp_path, sqlite_url, YCBOT_WECHAT_ENCODING_AES_KEY="")
    running = await start_service(config, knowledge_base, clock)
    keyed = PushSigner(config.wechat.token, "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", config.wechat.app_id)
    client = WxClient(running.url, keyed, clock)
    try:
        assert (await running.wx.send_text("user-k", "帮助", mode="plaintext")).content == texts.HELP
        assert (await client.send_text("user-k", "帮助", mode="safe")).status == 400
    finally:
        await client.close()
        await stop_service(running)


async def test_empty_token_accepts_nothing(tmp_path: Path, sqlite_url: str, knowledge_base,  # type: ignore[no-untyped-def]
                                           clock: FakeClock) -> None:
    """With no token anyone could compute a signature, so the callback refuses every request."""
    config = make_config(tmp_path, sqlite_url, YCBOT_WECHAT_TOKEN="", YCBOT_WECHAT_ENCODING_AES_KEY="")
    running = await start_service(config, knowledge_base, clock)
    try:
        assert (await running.wx.send_text("user-t", "帮助", mode="plaintext")).status == 403
        signed = running.wx.signer.request("<xml/>", "plaintext", timestamp=ts(clock))
        assert (await get(running.url, {**signed.query, "echostr": "1"}))[0] == 403
        assert await count(running, ProcessedMessage) == 0
    finally:
        await stop_service(running)
