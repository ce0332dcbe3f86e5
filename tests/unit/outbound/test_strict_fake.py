"""The fake 公众号 API refuses what WeChat refuses: one test per published rule."""

from __future__ import annotations

import pytest

from bot.outbound.channels.base import ChannelError
from storage.db import Database
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi
from tests.unit.outbound.conftest import ChannelFactory

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE_KEYS = {"character_string1": "YC20261120-0001", "phrase2": "已办结", "thing3": "市生态环境局",
                 "time4": "2026年11月20日 10:00"}


@pytest.fixture
def mp(sqlite_database: Database, channels: ChannelFactory):  # type: ignore[no-untyped-def]
    return channels.mp(sqlite_database)


@pytest.fixture
def strict(fake_wechat: FakeWechatApi, clock: FakeClock) -> FakeWechatApi:
    fake_wechat.clock = clock
    fake_wechat.add_template("TPL-NOTICE", list(TEMPLATE_KEYS))
    return fake_wechat


async def refused(coro) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ChannelError) as caught:
        await coro
    assert caught.value.errcode is not None
    return caught.value.errcode


async def test_a_user_message_allows_five_sends_within_48_hours(mp, strict: FakeWechatApi, clock: FakeClock):
    strict.user_message("u-1")
    for n in range(5):
        await mp.send_text("u-1", f"第{n}条")
    assert await refused(mp.send_text("u-1", "第六条")) == 45047
    strict.user_message("u-1")  # writing again opens a fresh window
    await mp.send_text("u-1", "又可以了")
    clock.advance(hours=48, seconds=1)
    assert await refused(mp.send_text("u-1", "两天后")) == 45015
    assert [r.errcode for r in strict.refused_for("u-1")] == [45047, 45015]


async def test_click_follow_and_scan_allow_three_sends_within_one_minute(mp, strict: FakeWechatApi, clock):
    strict.follow("u-2")
    assert await refused(mp.send_text("u-2", "没有互动")) == 45015
    for event in ("CLICK", "subscribe", "SCAN"):
        strict.user_event("u-2", event)
        for n in range(3):
            await mp.send_text("u-2", f"{event}{n}")
        assert await refused(mp.send_text("u-2", "第四条")) == 45047
    strict.user_event("u-2", "CLICK")
    clock.advance(seconds=61)
    assert await refused(mp.send_text("u-2", "一分钟后")) == 45015


async def test_view_opens_no_window(mp, strict: FakeWechatApi):
    strict.follow("u-3")
    strict.user_event("u-3", "VIEW")
    assert await refused(mp.send_text("u-3", "x")) == 45015


async def test_texts_over_2048_bytes_are_refused(mp, strict: FakeWechatApi):
    strict.user_message("u-4")
    assert await refused(mp.send_text("u-4", "字" * 683)) == 45002  # 2,049 bytes
    await mp.send_text("u-4", "字" * 682 + "ab")  # exactly 2,048 bytes
    assert len(strict.sent_to("u-4")) == 1


async def test_non_followers_get_43004(mp, strict: FakeWechatApi):
    assert await refused(mp.send_text("stranger", "x")) == 43004
    assert await refused(mp.send_template("stranger", "TPL-NOTICE", TEMPLATE_KEYS)) == 43004
    strict.user_message("u-5")
    strict.user_event("u-5", "unsubscribe")
    assert await refused(mp.send_template("u-5", "TPL-NOTICE", TEMPLATE_KEYS)) == 43004


async def test_unknown_template_id_is_40037(mp, strict: FakeWechatApi):
    strict.follow("u-6")
    assert await refused(mp.send_template("u-6", "NOT-ADDED", TEMPLATE_KEYS)) == 40037


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("time4", "土壤污染"),  # a category in a time key: the bug of positional key maps
        ("time4", "2026年11月20日"),  # a date without a time
        ("phrase2", "已提交，等待受理"),  # more than 5 Chinese characters
        ("phrase2", "done"),
        ("character_string1", "案件YC1"),  # Chinese in a character_string
        ("character_string1", "Y" * 33),
        ("thing3", ""),
    ],
)
async def test_values_must_fit_their_key_type(mp, strict: FakeWechatApi, key: str, value: str):
    strict.follow("u-7")
    assert await refused(mp.send_template("u-7", "TPL-NOTICE", {**TEMPLATE_KEYS, key: value})) == 47003
    assert strict.delivered == []


async def test_keys_outside_the_template_are_refused(mp, strict: FakeWechatApi):
    strict.follow("u-7")
    assert await refused(mp.send_template("u-7", "TPL-NOTICE", {**TEMPLATE_KEYS, "thing9": "x"})) == 47003


async def test_typed_values_that_fit_are_delivered(mp, strict: FakeWechatApi):
    strict.follow("u-8")
    assert (await mp.send_template("u-8", "TPL-NOTICE", TEMPLATE_KEYS)).msg_id
    assert [d.kind for d in strict.sent_to("u-8")] == ["template"]


async def test_subscription_needs_a_grant_and_a_one_time_grant_is_used_up(mp, strict: FakeWechatApi):
    assert await refused(mp.send_subscription("u-9", "TPL-NOTICE", TEMPLATE_KEYS)) == 43101
    strict.grant_subscription("u-9", "TPL-NOTICE")
    await mp.send_subscription("u-9", "TPL-NOTICE", TEMPLATE_KEYS, page="https://example.org/c/x")
    assert await refused(mp.send_subscription("u-9", "TPL-NOTICE", TEMPLATE_KEYS)) == 43101
    strict.grant_subscription("u-9", "TPL-NOTICE", long_term=True)
    await mp.send_subscription("u-9", "TPL-NOTICE", TEMPLATE_KEYS)
    await mp.send_subscription("u-9", "TPL-NOTICE", TEMPLATE_KEYS)
    # Not a follower at all: a subscription notification still reaches them (服务通知).
    assert [d.kind for d in strict.sent_to("u-9")] == ["subscribe"] * 3


async def test_delivery_results_are_pushed_back(mp, strict: FakeWechatApi):
    pushed: list[tuple[str, str]] = []

    async def pusher(openid: str, xml: str) -> str:
        pushed.append((openid, xml))
        return "success"

    strict.push_events_to(pusher)
    strict.follow("u-10", "u-11")
    strict.block("u-11")
    await mp.send_template("u-10", "TPL-NOTICE", TEMPLATE_KEYS)
    await mp.send_template("u-11", "TPL-NOTICE", TEMPLATE_KEYS)
    strict.grant_subscription("u-10", "TPL-NOTICE")
    await mp.send_subscription("u-10", "TPL-NOTICE", TEMPLATE_KEYS)
    await strict.drain_pushes()
    events = [(openid, xml.split("<Event><![CDATA[")[1].split("]]>")[0]) for openid, xml in pushed]
    assert events == [("u-10", "TEMPLATESENDJOBFINISH"), ("u-11", "TEMPLATESENDJOBFINISH"),
                      ("u-10", "subscribe_msg_sent_event")]
    assert "<Status><![CDATA[success]]>" in pushed[0][1]
    assert "<Status><![CDATA[failed:user block]]>" in pushed[1][1]
    assert "<ErrorStatus><![CDATA[success]]>" in pushed[2][1]


async def test_menu_names_are_counted_in_bytes(mp, strict: FakeWechatApi):
    too_long_top = {"button": [{"type": "click", "name": "环境举报与查询", "key": "K"}]}  # 7 × 3 = 21 bytes
    assert await refused(mp.account.create_menu(too_long_top)) in {40016, 40018}
