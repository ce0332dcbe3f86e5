"""The wizard's side roads over the real callback: out-of-order input, 修改, real names, borders of input."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import menu
from bot.reports import present
from bot.reports.photos import purge_abandoned_photos
from bot.wechat.replies import cdata
from storage.models import Report, ReportPhoto
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.wx import WxReply

LABEL = "山西省运城市盐湖区解放南路"
SPOT = (35.0312, 111.0075)
DESCRIPTION = "某化工厂夜间通过暗管向河道偷排废水"


@pytest.fixture
async def svc(tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock) -> AsyncIterator[RunningService]:
    config = make_config(tmp_path, sqlite_url, YCBOT_REPORTS_MAX_PHOTOS=3)
    running = await start_service(config, knowledge_base, clock)
    yield running
    await stop_service(running)


async def reports(service: RunningService) -> list[Report]:
    async with service.services.database.session() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def voice(service: RunningService, openid: str, recognition: str | None) -> WxReply:
    ts = int(service.clock().timestamp())
    rec = f"<Recognition>{cdata(recognition)}</Recognition>" if recognition is not None else ""
    xml = (
        f"<xml><ToUserName>{cdata('gh_test_account')}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType>{cdata('voice')}</MsgType><MediaId>{cdata('VOICE1')}</MediaId>"
        f"<Format>{cdata('amr')}</Format>{rec}<MsgId>{time.time_ns() % 10**18}</MsgId></xml>"
    )
    return await service.wx.post_xml(xml, openid=openid)


async def test_out_of_order_input_is_kept_and_answered(svc: RunningService) -> None:
    wx = svc.wx
    await wx.send_text("u", "举报")
    reply = await wx.send_image("u", "PHOTO1")  # a photo while asked for the category
    assert "已收到照片（共1张）" in reply.content and "第1步" in reply.content
    reply = await wx.send_text("u", "河边那个厂子晚上偷偷往外排黑水")  # a description before the category
    assert "第1步" in reply.content
    reply = await wx.send_text("u", "随便")
    assert "没有对应的类别" in reply.content and "第1步" in reply.content
    reply = await wx.send_text("u", "1")
    assert "第3步" in reply.content  # the description was kept
    reply = await wx.send_text("u", "好的")  # not an address
    assert "没有认出这是地址" in reply.content and "位置" in reply.content
    reply = await wx.click("u", menu.KEY_QA_PLAN)  # another feature mid-report
    assert "请先提交或发送“取消”" in reply.content and "第3步" in reply.content
    reply = await wx.click("u", menu.KEY_REPORT_MINE)
    assert "还没有提交过举报" in reply.content and "第3步" in reply.content
    reply = await wx.send_text("u", "举报")
    assert "接着上一步" in reply.content and "第3步" in reply.content
    reply = await voice(svc, "u", "盐湖区解放南路化工厂后门")  # speech recognised as an address
    assert "盐湖区" in reply.content and "第4步" in reply.content
    reply = await voice(svc, "u", None)  # speech WeChat could not recognise
    assert "需要文字回复" in reply.content and "第4步" in reply.content
    reply = await wx.send_text("u", "帮助")
    assert "取消" in reply.content and "第4步" in reply.content
    assert "照片" in (await wx.send_text("u", "这里")).content
    await wx.send_text("u", "完成")
    summary = (await wx.send_text("u", "匿名")).content
    assert "照片：1张" in summary and "盐湖区解放南路化工厂后门" in summary
    reply = await wx.send_text("u", "嗯")
    assert "确认" in reply.content and "修改" in reply.content
    confirmation = (await wx.send_text("u", "确认")).content
    assert "案件编号" in confirmation and len(confirmation.encode("utf-8")) <= 2048
    # How the outcome will arrive, truthfully: the sandbox stands in both templates; the case page link.
    assert "模板消息" in confirmation and "订阅处理结果" in confirmation and "/case/" in confirmation
    (report,) = await reports(svc)
    assert report.location_source == "typed" and report.latitude is None and report.county == "盐湖区"


async def test_a_sentence_naming_the_problem_gives_category_and_description(svc: RunningService) -> None:
    wx = svc.wx
    await wx.send_text("u", "举报")
    reply = await wx.send_text("u", "城东那家药店不要处方就卖抗生素")
    assert "已记下您的描述" in reply.content and "属于“药店无处方销售抗菌药（抗生素）”，对吗" in reply.content
    assert "第3步" in (await wx.send_text("u", "是")).content


async def test_edit_goes_back_and_returns_to_the_summary(svc: RunningService) -> None:
    wx = svc.wx
    for text in ("举报", "1", DESCRIPTION):
        await wx.send_text("u", text)
    await wx.send_location("u", *SPOT, LABEL)
    await wx.send_text("u", "跳过")
    await wx.send_text("u", "匿名")
    reply = await wx.send_text("u", "修改")
    assert "要修改哪一项" in reply.content and "2. 描述" in reply.content
    assert "序号" in (await wx.send_text("u", "天气")).content
    assert "第2步" in (await wx.send_text("u", "2")).content
    summary = (await wx.send_text("u", "河边那家化工厂白天也在偷排污水")).content
    assert "请核对" in summary and "白天也在偷排" in summary
    await wx.send_text("u", "修改")
    assert "第1步" in (await wx.send_text("u", "类别")).content
    summary = (await wx.send_text("u", "6")).content
    assert "非法进出口受控化学品" in summary
    await wx.send_text("u", "修改")
    await wx.send_text("u", "4")
    assert "第1张" in (await wx.send_image("u", "P2")).content
    reply = await wx.send_text("u", "清空")
    assert "已删除" in reply.content
    summary = (await wx.send_text("u", "完成")).content
    assert "照片：0张" in summary
    await wx.send_text("u", "确认")
    (report,) = await reports(svc)
    assert report.category == "import_export" and report.department == "运城海关"
    assert report.description == "河边那家化工厂白天也在偷排污水" and report.photos == []


async def test_real_name_reporter(svc: RunningService) -> None:
    wx = svc.wx
    for text in ("举报", "3", "城东某药店不要处方就卖抗生素"):
        await wx.send_text("u", text)
    await wx.send_text("u", "临猗县城关镇中心街")
    await wx.send_text("u", "跳过")
    reply = await wx.send_text("u", "2")
    assert "姓名 手机号" in reply.content
    assert "手机号格式不对" in (await wx.send_text("u", "张三 12345678901")).content
    assert "姓名" in (await wx.send_text("u", "13812345678")).content
    summary = (await wx.send_text("u", "张三 138-1234-5678")).content
    assert "实名（张三，13812345678）" in summary
    reply = await wx.send_text("u", "确认")
    assert "市市场监管局" in reply.content and "临猗县政府" in reply.content
    (report,) = await reports(svc)
    assert (report.real_name, report.reporter_name, report.reporter_phone) == (True, "张三", "13812345678")
    assert report.county == "临猗县" and report.county_method == "address"
    assert "13812345678" not in str(present.report_to_dict(report))


async def test_smell_asks_for_the_source(svc: RunningService) -> None:
    wx = svc.wx
    for text in ("举报", "1", "每天晚上都能闻到很刺鼻的异味"):
        await wx.send_text("u", text)
    reply = await wx.send_location("u", *SPOT, LABEL)
    assert "疑似来源" in reply.content
    reply = await wx.send_text("u", "北边两公里的化肥厂")
    assert "第4步" in reply.content
    await wx.send_text("u", "跳过")
    summary = (await wx.send_text("u", "匿名")).content
    assert "疑似来源：北边两公里的化肥厂" in summary
    await wx.send_text("u", "确认")
    (report,) = await reports(svc)
    assert report.reported_object == "北边两公里的化肥厂"


async def test_an_address_without_a_county_asks_and_may_stay_open(svc: RunningService) -> None:
    wx = svc.wx
    for text in ("举报", "2", "河滩上扔了很多农药瓶子和包装袋"):
        await wx.send_text("u", text)
    reply = await wx.send_text("u", "黄河滩涂养殖场旁边")
    assert "选择所属区县" in reply.content and "14. 运城开发区" in reply.content
    assert "第4步" in (await wx.send_text("u", "不确定")).content
    await wx.send_text("u", "跳过")
    assert "区县：待工作人员确定" in (await wx.send_text("u", "匿名")).content
    await wx.send_text("u", "确认")
    (report,) = await reports(svc)
    assert report.county is None and report.needs_manual_routing and report.department == "市农业农村局"


async def test_limits_on_photos_and_text(svc: RunningService) -> None:
    wx = svc.wx
    await wx.send_text("u", "举报")
    await wx.send_text("u", "1")
    reply = await wx.send_text("u", "污" * 501)
    assert "描述太长了" in reply.content and "上限500字" in reply.content
    await wx.send_text("u", DESCRIPTION)
    reply = await wx.send_text("u", "盐湖区" + "某" * 300)
    assert "地址太长了" in reply.content
    await wx.send_location("u", *SPOT, LABEL)
    for n in (1, 2, 3):
        assert f"第{n}张" in (await wx.send_image("u", f"P{n}")).content
    reply = await wx.send_image("u", "P4")
    assert "最多只能附3张" in reply.content
    reply = await wx.send_text("u", "<xml>]]></xml>")
    assert "请发送照片" in reply.content
    async with svc.services.database.session() as session:
        assert len((await session.scalars(select(ReportPhoto))).all()) == 3


async def test_an_abandoned_draft_expires_after_a_day_but_not_before(svc: RunningService, clock: FakeClock) -> None:
    wx = svc.wx
    await wx.send_text("u", "举报")
    await wx.send_text("u", "1")
    await wx.send_image("u", "P1")
    clock.advance(hours=3)  # longer than an ordinary dialog's timeout
    assert "第3步" in (await wx.send_text("u", DESCRIPTION)).content
    clock.advance(hours=24, minutes=1)
    await purge_abandoned_photos(svc.services)
    reply = await wx.send_text("u", "盐湖区解放路")  # the answer to a step that no longer exists
    assert "已超过24小时" in reply.content and "发送“举报”重新填写" in reply.content
    reply = await wx.send_text("u", "举报")
    assert "已超过" not in reply.content and "第1步" in reply.content
    async with svc.services.database.session() as session:
        assert (await session.scalars(select(ReportPhoto))).all() == []
    assert await reports(svc) == []


async def test_queries_answer_only_the_reporter(svc: RunningService) -> None:
    wx = svc.wx
    assert "还没有提交过举报" in (await wx.send_text("u", "查询")).content
    reply = await wx.send_text("u", "查询 YC20260101-0001")
    assert "没有找到" in reply.content
    reply = await wx.click("u", menu.KEY_REPORT_GUIDE)
    assert "举报须知" in reply.content and "12369" in reply.content
    assert "还没有提交过举报" in (await wx.click("u", menu.KEY_REPORT_MINE)).content
