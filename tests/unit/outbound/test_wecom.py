"""The WeCom client against the fake API: text, textcard, departments, duplicate check, token errors."""

from __future__ import annotations

import pytest

from bot.outbound.channels.base import ChannelError
from bot.outbound.channels.wecom import cut_bytes, parse_recipient, textcard
from storage.db import Database
from tests.support.fake_wechat_api import AGENT_ID, CORP_ID, CORP_SECRET, FakeWechatApi
from tests.unit.outbound.conftest import ChannelFactory

SEND = "/cgi-bin/message/send"
GETTOKEN = "/cgi-bin/gettoken"


@pytest.fixture
def wecom(sqlite_database: Database, channels: ChannelFactory):  # type: ignore[no-untyped-def]
    return channels.wecom(sqlite_database)


async def test_text_to_a_member(wecom, fake_wechat: FakeWechatApi):
    result = await wecom.send_text("zhangsan", "请于本周内报送调查数据")
    assert result.msg_id
    (token_call,) = fake_wechat.calls_to(GETTOKEN)
    assert token_call.method == "GET"
    assert token_call.query == {"corpid": CORP_ID, "corpsecret": CORP_SECRET}
    (call,) = fake_wechat.calls_to(SEND)
    assert call.body["touser"] == "zhangsan" and "toparty" not in call.body
    assert call.body["agentid"] == AGENT_ID
    assert call.body["msgtype"] == "text"
    assert call.body["enable_duplicate_check"] == 1
    assert call.body["duplicate_check_interval"] == 1800
    assert [d.text for d in fake_wechat.sent_to("zhangsan")] == ["请于本周内报送调查数据"]


async def test_duplicate_check_means_one_delivery(wecom, fake_wechat: FakeWechatApi):
    await wecom.send_text("zhangsan", "同一条提醒")
    await wecom.send_text("zhangsan", "同一条提醒")
    assert fake_wechat.count(SEND) == 2
    assert len(fake_wechat.sent_to("zhangsan")) == 1


async def test_departments_and_several_members(wecom, fake_wechat: FakeWechatApi):
    await wecom.send_text("party:12|15", "部门通知")
    await wecom.send_text("lisi|wangwu", "两人通知")
    party_call, users_call = fake_wechat.calls_to(SEND)
    assert party_call.body["toparty"] == "12|15" and "touser" not in party_call.body
    assert users_call.body["touser"] == "lisi|wangwu"
    assert {d.recipient for d in fake_wechat.delivered} == {"party:12", "party:15", "lisi", "wangwu"}


async def test_template_becomes_a_textcard(wecom, fake_wechat: FakeWechatApi):
    data = {"thing1": "新污染物调查监测", "time2": "2026-12-31", "thing3": "<b>市生态环境局</b>"}
    await wecom.send_template("zhangsan", "TPL-1", data, url="https://example.org/t/1")
    (call,) = fake_wechat.calls_to(SEND)
    assert call.body["msgtype"] == "textcard"
    assert call.body["textcard"] == {
        "title": "新污染物调查监测",
        "description": "2026-12-31\n&lt;b&gt;市生态环境局&lt;/b&gt;",
        "url": "https://example.org/t/1",
        "btntxt": "详情",
    }


async def test_textcard_without_url_uses_the_service_address(wecom, fake_wechat: FakeWechatApi):
    await wecom.send_template("zhangsan", "textcard", {"title": "逾期提醒", "description": "任务已逾期"})
    (call,) = fake_wechat.calls_to(SEND)
    assert call.body["textcard"]["url"] == "https://example.org/tasks"
    assert call.body["textcard"]["description"] == "任务已逾期"


def test_textcard_limits():
    card = textcard({"title": "题" * 100, "description": "述" * 400}, "https://example.org")
    assert len(card["title"].encode()) <= 128 and card["title"].endswith("…")
    assert len(card["description"].encode()) <= 512 and card["description"].endswith("…")
    assert cut_bytes("abc", 3) == "abc"
    for bad_data, url in (({"title": ""}, "https://x.org"), ({"title": "t"}, "javascript:alert(1)"), ({}, "https://x")):
        with pytest.raises(ChannelError) as caught:
            textcard(bad_data, url)
        assert caught.value.permanent


@pytest.mark.parametrize("recipient", ["", "@all", "a|@all", "party:", "party:abc", "bad id", "x" * 65, "|"])
async def test_bad_recipients_refused_without_a_call(wecom, fake_wechat, recipient):
    with pytest.raises(ChannelError) as caught:
        await wecom.send_text(recipient, "x")
    assert caught.value.permanent
    assert fake_wechat.count(SEND) == 0


def test_parse_recipient():
    assert parse_recipient(" zhang.san@corp ") == {"touser": "zhang.san@corp"}
    assert parse_recipient("party:3") == {"toparty": "3"}


async def test_unknown_member_is_permanent(wecom, fake_wechat):
    fake_wechat.set_errcode_for("ghost", 60111)
    with pytest.raises(ChannelError) as caught:
        await wecom.send_text("ghost", "x")
    assert caught.value.errcode == 81013 and caught.value.permanent


async def test_partly_unknown_members_still_reach_the_others(wecom, fake_wechat):
    fake_wechat.set_errcode_for("ghost", 60111)
    await wecom.send_text("ghost|lisi", "x")
    assert [d.recipient for d in fake_wechat.delivered] == ["lisi"]


async def test_expired_token_refreshed_once(wecom, fake_wechat):
    await wecom.send_text("zhangsan", "一")
    fake_wechat.expire_tokens()  # WeCom answers 42001
    await wecom.send_text("zhangsan", "二")
    assert fake_wechat.count(GETTOKEN) == 2
    assert fake_wechat.count(SEND) == 3


async def test_wrong_secret_is_a_clear_error(sqlite_database, channels: ChannelFactory, fake_wechat):
    channel = channels.wecom(sqlite_database, secret="wrong")
    with pytest.raises(ChannelError) as caught:
        await channel.send_text("zhangsan", "x")
    assert "/cgi-bin/gettoken" in str(caught.value) and "wrong" not in str(caught.value)
    assert fake_wechat.count(SEND) == 0


async def test_menu_and_media_are_not_a_wecom_thing(wecom):
    """Menus, media and tags are the 公众号's own API: WeCom has no account object for them."""
    assert not hasattr(wecom, "account")
    assert not hasattr(wecom, "create_menu") and not hasattr(wecom, "download_media")
