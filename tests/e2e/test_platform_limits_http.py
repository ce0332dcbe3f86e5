"""Platform limits over real HTTP against the strict sandbox: long replies, windows, voice, refusals shown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

import handlers
from bot import texts
from bot.context import Context
from bot.outbound.worker import OutboxWorker
from bot.routing import HandlerResult, Router, text_is
from bot.simulator.feed import messages_for
from bot.wechat import push
from bot.wechat.limits import TEXT_MAX_BYTES, utf8_len
from storage.models import SandboxMessage, WechatUser
from storage.models.notices import EventWindow
from storage.outbox import enqueue
from tests.conftest import RunningService, start_service, stop_service
from tests.support.clock import FakeClock

SENTENCE = "现场发现企业夜间偷排含氟废水，已拍照取证并标注位置。"  # 26 characters, 78 bytes
LONG = SENTENCE * 39  # 3,042 bytes
probe = Router("limits-probe")


@probe.on(text_is("长摘要"))
async def long_summary(ctx: Context) -> HandlerResult:
    return LONG


@pytest.fixture
async def service(  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch, config, knowledge_base, clock: FakeClock
) -> AsyncIterator[RunningService]:
    original = handlers.all_routers
    monkeypatch.setattr(handlers, "all_routers", lambda: [probe, *original()])
    running = await start_service(config, knowledge_base, clock)
    yield running
    await stop_service(running)


async def sandbox_texts(service: RunningService, openid: str) -> list[SandboxMessage]:
    async with service.services.database.session() as session:
        rows = await session.scalars(
            select(SandboxMessage)
            .where(SandboxMessage.recipient == openid, SandboxMessage.kind == "text")
            .order_by(SandboxMessage.id)
        )
        return list(rows)


async def drain(service: RunningService) -> None:
    while await OutboxWorker(service.services).run_once():
        pass


async def test_a_3000_byte_reply_reaches_the_user_whole_in_pieces_that_fit(service: RunningService) -> None:
    reply = await service.wx.send_text("u-long", "长摘要")
    assert utf8_len(reply.content) <= TEXT_MAX_BYTES
    await drain(service)
    rest = [row.payload["content"] for row in await sandbox_texts(service, "u-long")]
    assert rest and all(utf8_len(piece) <= TEXT_MAX_BYTES for piece in rest)
    assert reply.content + "".join(rest) == LONG
    assert all("refused" not in row.payload for row in await sandbox_texts(service, "u-long"))


async def test_only_a_users_message_opens_the_48_hour_window(service: RunningService, clock: FakeClock) -> None:
    await service.wx.send_text("u-win", "帮助")
    written = clock()
    clock.advance(hours=1)
    await service.wx.click("u-win", "HELP")
    await service.wx.send_event("u-win", "VIEW", "https://example.org")
    async with service.services.database.session() as session:
        user = await session.get(WechatUser, "u-win")
        window = await session.get(EventWindow, "u-win")
    assert user is not None and user.last_message_at == written  # CLICK and VIEW did not move it
    assert window is not None and window.opened_at == clock()  # the CLICK opened the 1-minute window


async def put_text(service: RunningService, openid: str, content: str, key: str) -> None:
    async with service.services.database.session() as session:
        await enqueue(session, channel="mp", kind="text", recipient=openid, payload={"content": content},
                      now=service.clock(), dedup_key=key)
        await session.commit()


async def test_the_sandbox_refuses_a_sixth_send_and_the_simulator_shows_why(service: RunningService) -> None:
    await service.wx.send_text("u-quota", "帮助")
    mp = service.services.channel("mp")
    for n in range(5):
        await mp.send_text("u-quota", f"第{n + 1}条")
    with pytest.raises(Exception) as caught:
        await mp.send_text("u-quota", "第6条")
    assert getattr(caught.value, "errcode", None) == 45047
    cards = await messages_for(service.services.database, "u-quota", 0)
    assert [c.get("refused") is not None for c in cards] == [False] * 5 + [True]
    assert "45047" in cards[-1]["refused"] and "被微信拒绝" in cards[-1]["label"]


async def test_the_sandbox_closes_the_window_after_48_hours(service: RunningService, clock: FakeClock) -> None:
    await service.wx.send_text("u-late", "帮助")
    clock.advance(hours=49)
    await put_text(service, "u-late", "处理结果", "late-1")
    await drain(service)
    assert await sandbox_texts(service, "u-late") == []  # the worker held it: outside the window
    await service.wx.send_text("u-late", "查询")
    await drain(service)
    assert [r.payload["content"] for r in await sandbox_texts(service, "u-late")] == ["处理结果"]


async def test_non_followers_and_over_long_texts_are_refused_by_the_sandbox(service: RunningService) -> None:
    mp = service.services.channel("mp")
    with pytest.raises(Exception) as never_followed:
        await mp.send_text("u-nobody", "您好")
    assert getattr(never_followed.value, "errcode", None) == 43004
    await service.wx.send_text("u-bytes", "帮助")
    with pytest.raises(Exception) as too_long:
        await mp.send_text("u-bytes", "字" * 683)
    assert getattr(too_long.value, "errcode", None) == 45002


async def test_the_sandbox_checks_template_ids_and_value_types(service: RunningService) -> None:
    mp = service.services.channel("mp")
    await service.wx.send_text("u-tpl", "帮助")
    for template_id, data, errcode in (
        ("not-configured", {"thing1": "x"}, 40037),
        ("sandbox-template", {"time2": "土壤污染"}, 47003),
    ):
        with pytest.raises(Exception) as caught:
            await mp.send_template("u-tpl", template_id, data)
        assert getattr(caught.value, "errcode", None) == errcode
    await mp.send_template("u-tpl", "sandbox-template", {"thing1": "新举报", "time2": "2026年11月20日 10:00"})


async def test_a_voice_message_without_recognition_asks_for_text(service: RunningService) -> None:
    xml = (
        f"<xml><ToUserName><![CDATA[{service.wx.account}]]></ToUserName><FromUserName><![CDATA[u-voice]]>"
        f"</FromUserName><CreateTime>{int(service.clock().timestamp())}</CreateTime><MsgType><![CDATA[voice]]>"
        f"</MsgType><MediaId><![CDATA[VOICE1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[]]>"
        f"</Recognition><MsgId>{push.next_msg_id()}</MsgId></xml>"
    )
    assert (await service.wx.post_xml(xml, openid="u-voice")).content == texts.VOICE_NOT_RECOGNISED
