"""A reporter's words: noted, categorised with a question, stored exactly as typed; 查询 as people type it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import texts
from bot.reports import workflow
from storage.models import OutboxMessage, Report
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import make_staff, seed_report

SPOT = (35.0312, 111.0075)
LABEL = "山西省运城市盐湖区解放南路"
PESTICIDE = "乱丢农药包装废弃物、过期农药兽药"


@pytest.fixture
async def svc(tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock) -> AsyncIterator[RunningService]:
    running = await start_service(make_config(tmp_path, sqlite_url), knowledge_base, clock)
    yield running
    await stop_service(running)


async def only_report(service: RunningService) -> Report:
    async with service.services.database.session() as session:
        (report,) = (await session.scalars(select(Report))).all()
        return report


async def test_the_description_is_noted_the_category_asked_and_both_kept_as_typed(svc: RunningService) -> None:
    wx = svc.wx
    typed = "河边有人乱扔农药瓶子，一地都是，还有过期的兽药！"
    reply = (await wx.send_text("u", f"我要举报 {typed}")).content
    assert "已记下您的描述：“河边有人乱扔农药瓶子，一地都是，还有过期的兽药！”" in reply
    assert f"属于“{PESTICIDE}”，对吗？" in reply and "回复“是”确认" in reply
    assert texts.REPORT_CONFIRM_CATEGORY_HINT in (await wx.send_text("u", "嗯……让我想想")).content
    assert "第3步" in (await wx.send_text("u", "是")).content
    address = "盐湖区解放南路１２号，桥东头"
    assert "第4步" in (await wx.send_text("u", address)).content  # no smell, no source question
    await wx.send_text("u", "跳过")
    summary = (await wx.send_text("u", "匿名")).content
    assert typed in summary and PESTICIDE in summary
    assert "案件编号" in (await wx.send_text("u", "确认")).content
    report = await only_report(svc)
    assert report.description == typed  # full-width punctuation and all
    assert report.address == address and report.county == "盐湖区"
    assert report.category == "pesticide" and report.department == "市农业农村局"


async def test_a_wrong_guess_is_corrected_by_number_or_refused(svc: RunningService) -> None:
    wx = svc.wx
    reply = (await wx.send_text("u", "我要举报 小区门口药店不要处方就卖抗生素")).content
    assert "属于“药店无处方销售抗菌药（抗生素）”，对吗？" in reply
    assert "第3步" in (await wx.send_text("u", "4")).content  # another category by its number
    await wx.send_text("u", "取消")
    await wx.send_text("u", "我要举报 小区门口药店不要处方就卖抗生素")
    reply = (await wx.send_text("u", "不是")).content
    assert "【第1步 类别】请回复序号" in reply
    assert "第3步" in (await wx.send_text("u", "7")).content


async def test_a_sentence_without_a_clear_category_is_kept_and_the_category_asked(svc: RunningService) -> None:
    wx = svc.wx
    reply = (await wx.send_text("u", "我要举报 这家化工厂偷排废水，还在用禁用的全氟化合物")).content
    assert "已记下您的描述" in reply and "【第1步 类别】请回复序号" in reply  # two categories fit: ask
    assert "第3步" in (await wx.send_text("u", "1")).content


async def test_a_smelly_wastewater_report_does_not_ask_where_the_smell_comes_from(svc: RunningService) -> None:
    wx = svc.wx
    await wx.send_text("u", "我要举报 化工厂晚上往河道里排污水，臭得很")
    assert "第3步" in (await wx.send_text("u", "是")).content
    reply = (await wx.send_location("u", *SPOT, LABEL)).content
    assert "疑似来源" not in reply and "第4步" in reply
    # smoke or a smell on its own still asks, since the reporter may be far from the source
    await wx.send_text("u2", "我要举报 每天晚上都有很呛的黑烟和刺鼻气味")
    await wx.send_text("u2", "1")
    assert "疑似来源" in (await wx.send_location("u2", *SPOT, LABEL)).content


async def test_query_accepts_a_short_number_and_lower_case_and_explains_the_format(svc: RunningService) -> None:
    wx = svc.wx
    await wx.send_text("u", "我要举报 河边有人乱扔农药瓶子和包装袋")
    await wx.send_text("u", "是")
    await wx.send_location("u", *SPOT, LABEL)
    await wx.send_text("u", "跳过")
    await wx.send_text("u", "匿名")
    await wx.send_text("u", "确认")
    case_no = (await only_report(svc)).case_no
    assert case_no is not None and case_no.endswith("-0001")
    short = case_no[: -len("0001")] + "1"
    for typed in (f"查询 {short}", f"查询 {case_no.lower()}", f"查询{short.lower()}", case_no.replace("-", "")):
        reply = (await wx.send_text("u", typed)).content
        assert f"案件编号：{case_no}" in reply, typed
    for typed in ("查询 YC2026", "查询 yc2026-12", "YC20261"):
        reply = (await wx.send_text("u", typed)).content
        assert reply.startswith("没有认出案件编号") and "YC20261204-0007" in reply, typed
    assert "没有认出案件编号" not in (await wx.send_text("u", "查询 2025年重点管控新污染物清单")).content
    # someone else's case number reads like a missing one
    assert "没有找到" in (await wx.send_text("u-other", f"查询 {short}")).content


async def test_status_replies_name_the_responding_unit(svc: RunningService) -> None:

    services = svc.services
    await make_staff(services, "xia", "夏县政府")
    case_no = await seed_report(services, openid="u-rep", county="夏县", latitude=35.14, longitude=111.22)
    async with services.database.session() as session:
        for status, actor, reply in (
            ("accepted", "cli:root", ""),
            ("investigating", "xia", ""),
            ("resolved", "xia", "已责令该厂停产整改，并立案查处。"),
        ):
            await workflow.change_status(
                session, services, case_no, status, actor=actor, public_reply=reply, note="处理", now=svc.clock()
            )
        await session.commit()
        notices = (
            await session.scalars(
                select(OutboxMessage.payload).where(OutboxMessage.purpose == "report_update").order_by(OutboxMessage.id)
            )
        ).all()
    contents = [n["content"] for n in notices]
    assert "已受理（市生态环境局）" in contents[0]  # a command-line actor: the unit the case is routed to
    assert "调查处理中（夏县政府）" in contents[1] and "已办结（夏县政府）" in contents[2]
    reply = (await svc.wx.send_text("u-rep", f"查询 {case_no}")).content
    assert "承办单位：市生态环境局、夏县政府" in reply
    assert "夏县政府答复（" in reply and "已责令该厂停产整改" in reply
