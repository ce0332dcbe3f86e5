"""The 公众号 client against the fake API: retries, token errors, timeouts, templates, media, menu."""

from __future__ import annotations

import pytest

from bot.menu import build_menu
from bot.outbound.channels.base import ChannelError
from bot.outbound.channels.wechat_mp import template_fields, template_value
from storage.db import Database
from tests.support.fake_wechat_api import FakeWechatApi
from tests.unit.outbound.conftest import ChannelFactory, Sleeps

STABLE = "/cgi-bin/stable_token"
CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
MEDIA = "/cgi-bin/media/get"
MENU = "/cgi-bin/menu/create"


@pytest.fixture
def mp(sqlite_database: Database, channels: ChannelFactory):  # type: ignore[no-untyped-def]
    return channels.mp(sqlite_database)


async def test_busy_is_retried_with_backoff_then_succeeds(mp, fake_wechat: FakeWechatApi, sleeps: Sleeps):
    fake_wechat.fail_next(CUSTOM, errcode=-1, times=2)
    await mp.send_text("openid-1", "您好")
    assert fake_wechat.count(CUSTOM) == 3
    assert sleeps.delays == [0.5, 1.0]
    assert [d.text for d in fake_wechat.sent_to("openid-1")] == ["您好"]


async def test_busy_retries_are_bounded(mp, fake_wechat: FakeWechatApi, sleeps: Sleeps):
    fake_wechat.fail_next(CUSTOM, errcode=-1, times=10)
    with pytest.raises(ChannelError) as caught:
        await mp.send_text("openid-1", "您好")
    assert caught.value.errcode == -1 and not caught.value.permanent
    assert fake_wechat.count(CUSTOM) == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_busy_token_fetch_is_retried(mp, fake_wechat: FakeWechatApi, sleeps: Sleeps):
    fake_wechat.fail_next(STABLE, errcode=-1)
    await mp.send_text("openid-1", "您好")
    assert fake_wechat.count(STABLE) == 2
    assert sleeps.delays == [0.5]


async def test_expired_token_refreshed_exactly_once(mp, fake_wechat: FakeWechatApi):
    await mp.send_text("openid-1", "一")
    fake_wechat.expire_tokens()
    await mp.send_text("openid-1", "二")
    assert fake_wechat.count(STABLE) == 2
    assert fake_wechat.count(CUSTOM) == 3  # one ok, one 40001, one ok
    assert [d.text for d in fake_wechat.sent_to("openid-1")] == ["一", "二"]
    first, rejected, retried = (c.query["access_token"] for c in fake_wechat.calls_to(CUSTOM))
    assert first == rejected != retried


async def test_server_that_keeps_refusing_the_token_gives_up_after_one_refresh(
    mp, fake_wechat: FakeWechatApi
):
    fake_wechat.fail_next(CUSTOM, errcode=40001, times=50)
    with pytest.raises(ChannelError) as caught:
        await mp.send_text("openid-1", "您好")
    assert caught.value.errcode == 40001 and not caught.value.permanent
    assert fake_wechat.count(CUSTOM) == 2
    # The normal fetch handed back the refused token, so one forced fetch followed — and nothing more.
    assert [c.body["force_refresh"] for c in fake_wechat.calls_to(STABLE)] == [False, False, True]


@pytest.mark.parametrize("errcode", [40014, 42001])
async def test_other_token_errcodes_refresh_once(mp, fake_wechat: FakeWechatApi, errcode: int):
    await mp.send_text("openid-1", "一")
    fake_wechat.expire_tokens()
    fake_wechat.fail_next(CUSTOM, errcode=errcode)
    await mp.send_text("openid-1", "二")
    assert fake_wechat.count(STABLE) == 2
    assert len(fake_wechat.sent_to("openid-1")) == 2


async def test_timeout_is_a_retryable_error(sqlite_database, channels: ChannelFactory, fake_wechat):
    channel = channels.mp(sqlite_database, timeout_seconds=0.2)
    await channel.send_text("openid-1", "warm-up")  # token fetched
    fake_wechat.stall_next(CUSTOM)
    with pytest.raises(ChannelError) as caught:
        await channel.send_text("openid-1", "您好")
    assert not caught.value.permanent and caught.value.errcode is None
    assert "no answer within 0.2 s" in str(caught.value)


async def test_unreachable_server_is_a_retryable_error(sqlite_database, channels: ChannelFactory):
    channel = channels.mp(sqlite_database, api_base_url="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(ChannelError) as caught:
        await channel.send_text("openid-1", "您好")
    assert not caught.value.permanent
    assert "network error" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (502, b"<html>bad gateway</html>", "HTTP 502"),
        (200, b"<html>captive portal</html>", "not JSON"),
        (200, b"[1, 2]", "not a JSON object"),
    ],
)
async def test_broken_answers_are_retryable_errors(mp, fake_wechat, status, body, expected):
    await mp.send_text("openid-1", "warm-up")
    fake_wechat.answer_next(CUSTOM, status=status, body=body)
    with pytest.raises(ChannelError) as caught:
        await mp.send_text("openid-1", "您好")
    assert expected in str(caught.value) and not caught.value.permanent


async def test_error_messages_never_contain_the_token(mp, fake_wechat):
    fake_wechat.fail_next(CUSTOM, errcode=45009, errmsg="api freq out of limit")
    with pytest.raises(ChannelError) as caught:
        await mp.send_text("openid-1", "您好")
    token = fake_wechat.valid_tokens()[0]
    assert token not in str(caught.value)
    assert caught.value.errcode == 45009 and not caught.value.permanent


@pytest.mark.parametrize("errcode", [43004, 40003, 45015, 43019])
async def test_recipient_errors_are_permanent(mp, fake_wechat, errcode):
    fake_wechat.set_errcode_for("openid-gone", errcode)
    with pytest.raises(ChannelError) as caught:
        await mp.send_text("openid-gone", "您好")
    assert caught.value.errcode == errcode and caught.value.permanent


async def test_empty_recipient_or_text_refused_before_any_call(mp, fake_wechat):
    for recipient, content in (("", "x"), ("openid-1", ""), ("openid-1", "   ")):
        with pytest.raises(ChannelError) as caught:
            await mp.send_text(recipient, content)
        assert caught.value.permanent
    assert fake_wechat.calls == []


# ---- template messages -------------------------------------------------------------------------------


def test_template_value_rule():
    assert template_value("短") == "短"
    assert template_value("第一行\n第二行\r\n第三行") == "第一行 第二行 第三行"
    assert template_value("  a \t b  ") == "a b"
    long = "二〇二六年十一月二十日前完成新污染物环境风险筛查工作"
    assert len(long) > 20
    assert template_value(long) == long[:19] + "…"
    assert len(template_value(long)) == 20
    assert template_value(12345) == "12345"


def test_template_fields_drop_retired_keys_and_colours():
    fields = template_fields(
        {"first": "您好", "thing1": {"value": "任务", "color": "#FF0000"}, "time2": "2026-11-20", "remark": "谢谢"}
    )
    assert fields == {"thing1": {"value": "任务"}, "time2": {"value": "2026-11-20"}}
    for bad in ({"thing 1": "x"}, {"": "x"}, {"first": "only retired"}, {}):
        with pytest.raises(ChannelError) as caught:
            template_fields(bad)
        assert caught.value.permanent


async def test_template_send(mp, fake_wechat):
    data = {"thing1": "开展新污染物调查监测评估工作（第一阶段）\n含重点行业", "time2": "2026年12月31日 18:00"}
    data["remark"] = "x"
    result = await mp.send_template(
        "openid-1", "TPL-1", data, url="https://example.org/t/1", client_msg_id="reminder:7:30"
    )
    assert result.msg_id
    (call,) = fake_wechat.calls_to(TEMPLATE)
    assert call.body["client_msg_id"] == "reminder:7:30"
    assert call.body["url"] == "https://example.org/t/1"
    assert call.body["data"]["thing1"]["value"] == "开展新污染物调查监测评估工作（第一阶段…"  # 19 + …
    assert "remark" not in call.body["data"]
    # The same client_msg_id again: WeChat (and the fake) deliver once.
    again = await mp.send_template("openid-1", "TPL-1", data, client_msg_id="reminder:7:30")
    assert again.msg_id == result.msg_id
    assert len(fake_wechat.sent_to("openid-1")) == 1


async def test_long_client_msg_id_is_hashed(mp, fake_wechat):
    key = "reminder:" + "任务" * 40
    await mp.send_template("openid-1", "TPL-1", {"thing1": "x"}, client_msg_id=key)
    await mp.send_template("openid-1", "TPL-1", {"thing1": "x"}, client_msg_id=key)
    sent = [c.body["client_msg_id"] for c in fake_wechat.calls_to(TEMPLATE)]
    assert sent[0] == sent[1] and len(sent[0]) == 32 and sent[0].isascii()


async def test_not_following_is_permanent_for_templates(mp, fake_wechat):
    fake_wechat.set_errcode_for("openid-left", 43004)
    with pytest.raises(ChannelError) as caught:
        await mp.send_template("openid-left", "TPL-1", {"thing1": "x"})
    assert caught.value.errcode == 43004 and caught.value.permanent


# ---- media and menu -------------------------------------------------------------------------------


async def test_media_download(mp, fake_wechat):
    photo = b"\xff\xd8\xff\xe0" + b"\x00" * 5000
    fake_wechat.put_media("MEDIA_1", photo, "image/jpeg")
    media = await mp.account.download_media("MEDIA_1")
    assert media.content == photo
    assert media.content_type == "image/jpeg"
    assert media.filename == "MEDIA_1.jpeg"
    (call,) = fake_wechat.calls_to(MEDIA)
    assert call.method == "GET" and call.query["media_id"] == "MEDIA_1"


async def test_expired_media_is_permanent(mp, fake_wechat):
    with pytest.raises(ChannelError) as caught:
        await mp.account.download_media("GONE_1")
    assert caught.value.errcode == 40007 and caught.value.permanent


async def test_media_download_refreshes_an_expired_token(mp, fake_wechat):
    fake_wechat.put_media("MEDIA_2", b"voice", "audio/amr")
    await mp.send_text("openid-1", "warm-up")
    fake_wechat.expire_tokens()
    media = await mp.account.download_media("MEDIA_2")
    assert media.content == b"voice"
    assert fake_wechat.count(STABLE) == 2


@pytest.mark.parametrize("media_id", ["", "../../etc/passwd", "a" * 200, "id with space"])
async def test_hostile_media_ids_refused_without_a_call(mp, fake_wechat, media_id):
    with pytest.raises(ChannelError) as caught:
        await mp.account.download_media(media_id)
    assert caught.value.permanent
    assert fake_wechat.count(MEDIA) == 0


async def test_menu_create(mp, fake_wechat):
    menu = build_menu()
    await mp.account.create_menu(menu)
    assert fake_wechat.menus == [menu]
    too_many = {"button": [{"name": str(i), "type": "click", "key": str(i)} for i in range(4)]}
    with pytest.raises(ChannelError) as caught:
        await mp.account.create_menu(too_many)
    assert caught.value.permanent
    assert fake_wechat.count(MENU) == 1


async def test_close_is_idempotent_and_the_channel_reopens(mp, fake_wechat):
    await mp.send_text("openid-1", "一")
    await mp.close()
    await mp.close()
    await mp.send_text("openid-1", "二")  # a new session is opened on demand
    assert len(fake_wechat.sent_to("openid-1")) == 2
