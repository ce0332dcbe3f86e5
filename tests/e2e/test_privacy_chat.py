"""Privacy over the real callback: the notice, LOCATION pushes, data requests reaching the console,
the housekeeping job from the scheduler's job table, and the append-only audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import inspect, select, text

from bot import menu, texts
from bot.privacy.requests import carry_out_erasure
from bot.privacy.retention import purge
from bot.reports.workflow import change_status
from bot.wechat.push import _envelope
from scheduler.jobs import register_jobs
from scheduler.runner import ServiceScheduler
from storage.models import OutboxMessage, WechatUser
from storage.models.console import AuditEntry
from storage.models.privacy import DataRequest
from storage.models.reports import Report, ReportPendingLocation, ReportPhoto
from storage.report_queries import get_report
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import ConsoleClient, make_staff, sample_jpeg, seed_report

REPORTER = "oReporterReporterReporter0001"[:28]


@pytest.fixture
async def svc(tmp_path: Path, db_url: str, knowledge_base, clock: FakeClock) -> AsyncIterator[RunningService]:
    running = await start_service(make_config(tmp_path, db_url), knowledge_base, clock)
    yield running
    await stop_service(running)


async def _file_real_name_report(svc: RunningService, openid: str) -> str:
    wx = svc.wx
    for message in ("举报", "1", "某化工厂夜间通过暗管向河道偷排废水"):
        await wx.send_text(openid, message)
    await wx.send_location(openid, 35.031247, 111.007513, "山西省运城市盐湖区解放南路")
    await wx.send_text(openid, "跳过")
    contact = (await wx.send_text(openid, "2")).content
    assert "姓名 手机号" in contact
    await wx.send_text(openid, "李四 13912345678")
    await wx.send_text(openid, "确认")
    async with svc.services.database.session() as session:
        (report,) = (await session.scalars(select(Report).where(Report.reporter_openid == openid))).all()
    assert report.case_no is not None
    return report.case_no


async def _close(svc: RunningService, case_no: str) -> None:
    services = svc.services
    async with services.database.session() as db:
        await change_status(
            db,
            services,
            case_no,
            "rejected",
            actor="eco",
            reason="不属于本部门",
            competent_authority="住建部门",
            now=services.now(),
        )
        await change_status(db, services, case_no, "closed", actor="eco", now=services.now())
        await db.commit()


async def test_privacy_notice_everywhere(service: RunningService) -> None:
    wx = service.wx
    welcome = (await wx.send_event("u-new", "subscribe")).content
    notice = (await wx.send_text("u-new", "隐私")).content
    assert notice.startswith("【个人信息保护说明】") and welcome.endswith(notice)  # the full notice on follow
    assert len(welcome.encode()) < 2048  # one WeChat text reply
    cfg = service.config.privacy
    assert f"案件办结{cfg.closed_identity_days}天后删除举报人身份" in notice
    assert (await wx.click("u-new", menu.KEY_PRIVACY)).content == notice
    await wx.send_text("u-new", "举报")
    description_step = (await wx.send_text("u-new", "1")).content
    assert "请不要写您的姓名、住址、电话等个人信息" in description_step
    for message in ("某化工厂夜间通过暗管向河道偷排废水", "盐湖区解放南路88号"):
        await wx.send_text("u-new", message)
    contact_step = (await wx.send_text("u-new", "跳过")).content
    assert "实名举报" in contact_step and "发送“隐私”查看个人信息保护说明" in contact_step
    assert f"办结{cfg.closed_identity_days}天后删除" in contact_step
    assert (await wx.send_text("u-new", "隐私")).content == notice  # answered in the middle of a draft ...
    assert "请核对举报内容" in (await wx.send_text("u-new", "匿名")).content  # ... which stays where it was
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/privacy") as response:
        page = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    assert texts.PRIVACY_PAGE_TITLE in page and f"{cfg.closed_photo_days}天后删除照片" in page


async def test_location_events_are_not_stored(service: RunningService) -> None:
    inner = "<Event><![CDATA[LOCATION]]></Event><Latitude>35.123456</Latitude><Longitude>111.654321</Longitude>"
    inner += "<Precision>30.0</Precision>"
    for _ in range(3):
        service.clock.advance(seconds=5)
        xml = _envelope("gh_test_account", "u-moving", int(service.clock().timestamp()), "event", inner)
        reply = await service.wx.post_xml(xml, openid="u-moving")
        assert reply.status == 200
    async with service.services.database.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("wechat_users")})
        assert not {"last_latitude", "last_longitude"} & columns
        for table in ("wechat_users", "conversations", "report_pending_locations", "processed_messages"):
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
            assert "35.123456" not in repr(rows) and "111.654321" not in repr(rows)
    async with service.services.database.session() as session:
        assert await session.get(WechatUser, "u-moving") is not None
        assert (await session.scalars(select(ReportPendingLocation))).all() == []


async def test_deletion_request_from_chat_reaches_the_console_and_is_carried_out(svc: RunningService) -> None:
    case_no = await _file_real_name_report(svc, REPORTER)
    await _close(svc, case_no)
    mine = (await svc.wx.send_text(REPORTER, "我的数据")).content
    assert case_no in mine and "实名举报1件" in mine
    first = (await svc.wx.send_text(REPORTER, "删除我的信息")).content
    assert "已登记您的删除请求" in first
    again = (await svc.wx.send_text(REPORTER, "删除我的信息")).content
    assert "已在处理中" in again

    await make_staff(svc.services, "admin", "市生态环境局", admin=True)
    client = ConsoleClient(svc.url)
    try:
        assert await client.login("admin") == 303
        status, page, _ = await client.get("/console/privacy")
        assert status == 200 and case_no in page and "删除" in page and "查阅" in page
        assert REPORTER not in page  # the openid is shown masked
        async with svc.services.database.session() as session:
            request = await session.scalar(select(DataRequest).where(DataRequest.kind == "erasure"))
        assert request is not None and request.status == "open"
        status, _text, _ = await client.post(f"/console/privacy/{request.id}/erase")
        assert status == 303
        _status, page, _ = await client.get("/console/privacy")
        assert "已执行删除请求" in page and "1件已办结案件的身份信息已删除" in page
        status, page, _ = await client.post(f"/console/privacy/{request.id}/erase")
        assert status == 303  # carried out already: a warning, nothing changes
        _status, audit, _ = await client.get("/console/audit?action=privacy_erasure")
        assert "执行删除个人信息请求" in audit and "admin" in audit
        _status, case_page, _ = await client.get(f"/console/reports/{case_no}")
        assert "身份信息已按保存期限或本人请求删除" in case_page and "李四" not in case_page
    finally:
        await client.close()
    async with svc.services.database.session() as session:
        report = await get_report(session, case_no)
        assert report is not None and report.status == "closed" and report.description  # the record stays
        assert (report.reporter_openid, report.reporter_name, report.reporter_phone) == ("", "", "")
        assert await session.get(WechatUser, REPORTER) is None
        # The outcome notices still waiting for the reporter (they never expire) went with the identity.
        assert (await session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == REPORTER))).all() == []
    assert (await svc.wx.send_text(REPORTER, "我的数据")).content == texts.MY_DATA_NONE


async def test_housekeeping_job_applies_retention(svc: RunningService) -> None:
    services = svc.services
    closed = await seed_report(services, real_name=True, name="赵六", phone="13600001111", photos=(sample_jpeg(),))
    kept = await seed_report(services, category="toys", real_name=True, name="钱七", phone="13600002222")
    await _close(svc, closed)
    scheduler = ServiceScheduler()
    register_jobs(scheduler, services)
    housekeeping = scheduler.jobs["housekeeping"]
    svc.clock.advance(days=services.config.privacy.closed_identity_days - 1)
    await housekeeping()
    async with services.database.session() as session:
        report = await get_report(session, closed)
        assert report is not None and report.reporter_name == "赵六"  # not yet
    svc.clock.advance(days=services.config.privacy.closed_photo_days)
    await housekeeping()
    async with services.database.session() as session:
        report = await get_report(session, closed)
        other = await get_report(session, kept)
        photos = (await session.scalars(select(ReportPhoto))).all()
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy_purge"))).all()
    assert report is not None and report.status == "closed" and len(report.events) >= 3
    assert (report.reporter_name, report.reporter_phone, report.reporter_openid) == ("", "", "")
    assert photos == [] and not any(services.config.media_path().rglob("*.jpg"))
    assert report.latitude == round(report.latitude, 2)
    assert other is not None and other.reporter_name == "钱七"  # still open: kept
    assert len(audit) == 1 and audit[0].actor == "system:housekeeping"


async def test_audit_log_is_append_only(svc: RunningService) -> None:
    services = svc.services
    async with services.database.session() as session:
        session.add(AuditEntry(at=services.now(), actor="a", action="login", ip="", detail={}))
        await session.commit()
    for statement in ("UPDATE staff_audit_log SET actor = 'someone else'", "DELETE FROM staff_audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with services.database.engine.begin() as conn:
                await conn.execute(text(statement))
    async with services.database.session() as session:
        (entry,) = (await session.scalars(select(AuditEntry))).all()
    assert entry.actor == "a"


async def test_a_case_open_at_the_deletion_request_loses_the_identity_once_closed(svc: RunningService) -> None:
    services = svc.services
    case_no = await _file_real_name_report(svc, REPORTER)
    await svc.wx.send_text(REPORTER, "删除我的信息")
    async with services.database.session() as session:
        request = await session.scalar(select(DataRequest))
        assert request is not None
        done = await carry_out_erasure(session, request.id, actor="admin", now=services.now())
        await session.commit()
    assert done.result["open_cases"] == [case_no] and done.openid == REPORTER
    async with services.database.session() as session:
        report = await get_report(session, case_no)
    assert report is not None and report.reporter_name == "李四"  # still being handled: kept
    await _close(svc, case_no)
    svc.clock.advance(days=1)
    plan = await purge(services, dry_run=True)
    assert plan.identities == [case_no]
    await purge(services)
    async with services.database.session() as session:
        report = await get_report(session, case_no)
        request = await session.get(DataRequest, done.id)
    assert report is not None and (report.reporter_name, report.reporter_openid) == ("", "")
    assert request is not None and request.openid == "" and request.result["open_cases"] == []
