"""Filing reports over the real callback (signed, encrypted pushes), photos served by the fake media API."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.outbound.worker import OutboxWorker
from bot.reports import present
from bot.reports import workflow as api
from bot.reports.photos import download_pending_photos, photo_path, run_media_job
from storage import report_queries as queries
from storage.contacts import add_wecom_contact, resolve_department
from storage.models import Conversation, OutboxMessage, Report, ReportPhoto
from tests.conftest import RunningService, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.support.notices import as_sent
from tests.unit.reports import imagefactory as imgs

YUNCHENG_LABEL = "山西省运城市盐湖区解放南路"
SPOT = (35.0312, 111.0075)


@pytest.fixture
async def api_service(
    tmp_path: Path, db_url: str, fake_wechat: FakeWechatApi, knowledge_base, clock: FakeClock
) -> AsyncIterator[RunningService]:
    """The service on loopback (SQLite and PostgreSQL) with its channels pointing at the fake API."""
    running = await start_service(
        make_api_config(tmp_path, db_url, fake_wechat), knowledge_base, clock, platform=fake_wechat
    )
    yield running
    await stop_service(running)


async def count(service: RunningService, model: type, *where: object) -> int:
    async with service.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def fetch(service: RunningService, case_no: str) -> Report:
    async with service.services.database.session() as session:
        report = await queries.get_report(session, case_no)
    assert report is not None
    return report


async def file_report(
    service: RunningService,
    openid: str,
    *,
    category: str = "1",
    description: str = "某化工厂夜间通过暗管向河道偷排废水",
    location: tuple[float, float, str] | None = (*SPOT, YUNCHENG_LABEL),
    photos: tuple[str, ...] = (),
) -> str:
    """Walk the wizard and return the case number."""
    wx = service.wx
    assert "第1步" in (await wx.send_text(openid, "举报")).content
    assert "第2步" in (await wx.send_text(openid, category)).content
    assert "第3步" in (await wx.send_text(openid, description)).content
    if location is not None:
        reply = await wx.send_location(openid, *location)
        assert "第4步" in reply.content, reply.content
    for media_id in photos:
        assert "照片" in (await wx.send_image(openid, media_id)).content
    assert "第5步" in (await wx.send_text(openid, "完成")).content
    assert "请核对" in (await wx.send_text(openid, "匿名")).content
    reply = await wx.send_text(openid, "确认")
    case_no = queries.normalize_case_no(reply.content.split("案件编号：")[1].split()[0])
    return case_no


async def test_full_report_over_the_callback(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service, wx = api_service, api_service.wx
    jpeg = imgs.jpeg(exif=imgs.exif_block(gps=True), comment=b"shot at home")
    png = imgs.png(text={"Author": "someone", "Location": "home"})
    fake_wechat.put_media("MEDIA_JPEG", jpeg, "image/jpeg")
    fake_wechat.put_media("MEDIA_PNG", png, "image/png")
    async with service.services.database.session() as session:
        epb = await resolve_department(session, "市生态环境局")
        county = await resolve_department(session, "盐湖区政府")
        await add_wecom_contact(session, epb, "epb-duty", name="值班员", now=service.clock())
        await add_wecom_contact(session, county, "yh-duty", name="值班员", now=service.clock())
        await session.commit()

    reply = await wx.send_text("reporter-1", "举报")
    assert "第1步" in reply.content and "1. " in reply.content and "取消" in reply.content
    reply = await wx.send_text("reporter-1", "1")
    assert "第2步" in reply.content
    reply = await wx.send_text("reporter-1", "偷排")  # too short
    assert "至少写5个汉字" in reply.content
    reply = await wx.send_text("reporter-1", "某化工厂夜间通过暗管向河道偷排废水")
    assert "第3步" in reply.content
    reply = await wx.send_location("reporter-1", *SPOT, YUNCHENG_LABEL)
    assert "盐湖区" in reply.content and "第4步" in reply.content
    assert "第1张" in (await wx.send_image("reporter-1", "MEDIA_JPEG")).content
    assert "第2张" in (await wx.send_image("reporter-1", "MEDIA_PNG")).content
    reply = await wx.send_text("reporter-1", "完成")
    assert "第5步" in reply.content and "管理员" in reply.content
    summary = (await wx.send_text("reporter-1", "匿名")).content
    assert "照片：2张" in summary and "区县：盐湖区" in summary and "确认" in summary

    confirm = await wx.send_text("reporter-1", "确认", msg_id="7100000000000000001")
    assert "案件编号：YC20261120-" in confirm.content
    assert "12369" in confirm.content and "15日" in confirm.content and "以主管部门最新要求为准" in confirm.content
    # WeChat retries the same push: same reply, nothing new.
    retry = await wx.send_text("reporter-1", "确认", msg_id="7100000000000000001")
    assert retry.content == confirm.content
    # The reporter taps 确认 again (a new message): pointed at the case, nothing filed.
    again = await wx.send_text("reporter-1", "确认")
    assert "已经提交过" in again.content
    assert await count(service, Report) == 1
    case_no = queries.normalize_case_no(confirm.content.split("案件编号：")[1].split()[0])

    report = await fetch(service, case_no)
    assert (report.department, report.county, report.category) == ("市生态环境局", "盐湖区", "discharge")
    assert (report.latitude, report.longitude) == SPOT  # GCJ-02 as received
    assert report.address == YUNCHENG_LABEL and not report.needs_manual_routing
    assert [p.status for p in report.photos] == ["pending", "pending"]

    # New-case notices for the department's and the county's bound officials.
    async with service.services.database.session() as session:
        notices = (await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "notice"))).all()
    assert sorted(n.recipient for n in notices) == ["epb-duty", "yh-duty"]
    assert all(case_no in as_sent(service.services.config, n)[1]["description"] for n in notices)  # WeCom cards
    assert all("reporter-1" not in str(n.payload) for n in notices)

    run = await download_pending_photos(service.services, now=service.clock())
    assert run.stored == 2
    report = await fetch(service, case_no)
    media_dir = service.config.media_path()
    expected_jpeg = imgs.remove_ranges(jpeg, [(s, e) for m, s, e in imgs.jpeg_segments(jpeg) if m in (0xE1, 0xFE)])
    for photo, original, expected in ((report.photos[0], jpeg, expected_jpeg), (report.photos[1], png, None)):
        assert photo.stored and photo.sha256
        stored = photo_path(media_dir, photo.sha256, "jpg" if photo.content_type == "image/jpeg" else "png")
        data = stored.read_bytes()
        assert hashlib.sha256(data).hexdigest() == photo.sha256 and len(data) == photo.size
        assert imgs.pixels(data) == imgs.pixels(original)
        assert imgs.exif_of(data) == {}
        if expected is not None:
            assert data == expected
    assert b"Author" not in stored.read_bytes() and b"someone" not in stored.read_bytes()

    reply = await wx.send_text("reporter-1", f"查询 {case_no}")
    assert case_no in reply.content and "已提交，等待受理" in reply.content
    reply = await wx.send_text("stranger", f"查询 {case_no}")
    assert "没有找到" in reply.content and "化工厂" not in reply.content
    mine = await wx.send_text("reporter-1", "我的举报")
    assert case_no in mine.content


async def test_cancel_leaves_nothing(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service, wx = api_service, api_service.wx
    fake_wechat.put_media("M1", imgs.jpeg(), "image/jpeg")
    await wx.send_text("u-cancel", "举报")
    await wx.send_text("u-cancel", "1")
    await wx.send_text("u-cancel", "某化工厂夜间通过暗管向河道偷排废水")
    await wx.send_image("u-cancel", "M1")
    await download_pending_photos(service.services, now=service.clock())
    assert list(service.config.media_path().rglob("*.jpg"))
    reply = await wx.send_text("u-cancel", "取消")
    assert "已取消" in reply.content
    await run_media_job(service.services)
    assert await count(service, Report) == 0
    assert await count(service, ReportPhoto) == 0
    assert not list(service.config.media_path().rglob("*.jpg"))
    async with service.services.database.session() as session:
        conv = await session.get(Conversation, "u-cancel")
    assert conv is None or conv.state is None


async def test_photo_and_location_first_then_report(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service, wx = api_service, api_service.wx
    fake_wechat.put_media("EARLY", imgs.jpeg(), "image/jpeg")
    assert "发送“举报”" in (await wx.send_image("u-early", "EARLY")).content
    assert "发送“举报”" in (await wx.send_location("u-early", *SPOT, YUNCHENG_LABEL)).content
    reply = await wx.send_text("u-early", "我要举报河边有人倾倒大量农药包装袋和空药瓶")
    assert "1张照片" in reply.content and "位置" in reply.content
    assert "第1步" in reply.content  # the description was taken from the sentence; the category is next
    reply = await wx.send_text("u-early", "2")
    assert "第4步" in reply.content  # description and location already there
    assert "第5步" in (await wx.send_text("u-early", "完成")).content
    assert "照片：1张" in (await wx.send_text("u-early", "匿名")).content
    reply = await wx.send_text("u-early", "确认")
    case_no = queries.normalize_case_no(reply.content.split("案件编号：")[1].split()[0])
    report = await fetch(service, case_no)
    assert report.department == "市农业农村局" and report.county == "盐湖区"
    assert report.description.startswith("河边有人倾倒") and len(report.photos) == 1


async def test_download_fails_twice_then_succeeds(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service = api_service
    fake_wechat.put_media("FLAKY", imgs.jpeg(), "image/jpeg")
    case_no = await file_report(service, "u-flaky", photos=("FLAKY",))
    for _ in range(2):  # a gateway error twice (the channel itself retries "system busy" answers)
        fake_wechat.answer_next("/cgi-bin/media/get", status=502, body=b"<html>bad gateway</html>")
    first = await download_pending_photos(service.services, now=service.clock())
    assert (first.retried, first.stored) == (1, 0)
    # Not due again until the backoff has passed.
    assert (await download_pending_photos(service.services, now=service.clock())).handled == 0
    second = await download_pending_photos(service.services, now=service.clock.advance(seconds=31))
    assert (second.retried, second.stored) == (1, 0)
    third = await download_pending_photos(service.services, now=service.clock.advance(seconds=61))
    assert third.stored == 1
    report = await fetch(service, case_no)
    assert report.photos[0].stored and report.photos[0].attempts == 3


async def test_expired_media_id_keeps_the_report(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service, wx = api_service, api_service.wx
    case_no = await file_report(service, "u-expired", photos=("GONE",))  # the fake has no such media: 40007
    run = await download_pending_photos(service.services, now=service.clock())
    assert run.expired == 1
    report = await fetch(service, case_no)
    assert report.status == "submitted"
    data = present.report_to_dict(report)
    assert data["photos"][0]["stored"] is False and data["photos"][0]["status"] == "expired"
    assert data["photos_missing"] == 1
    assert "1张照片未能接收" in (await wx.send_text("u-expired", f"查询 {case_no}")).content


async def test_pic_url_stands_in_when_media_get_fails(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service, wx = api_service, api_service.wx
    picture = fake_wechat.put_picture("cdn-photo.jpg", imgs.jpeg())
    await wx.send_image("u-picurl", "NOT-ON-MEDIA-GET", pic_url=picture)  # media/get answers 40007
    run = await download_pending_photos(service.services, now=service.clock())
    assert (run.stored, run.expired) == (1, 0)
    assert fake_wechat.count("/cgi-bin/media/get") == 1 and fake_wechat.count("/mmbiz_jpg/cdn-photo.jpg") == 1


async def test_location_outside_yuncheng_is_kept_for_manual_routing(api_service: RunningService) -> None:
    service, wx = api_service, api_service.wx
    await wx.send_text("u-far", "举报")
    await wx.send_text("u-far", "1")
    await wx.send_text("u-far", "某化工厂夜间通过暗管向河道偷排废水")
    reply = await wx.send_location("u-far", 39.9087, 116.3975, "北京市东城区")
    assert "不在运城市范围内" in reply.content and "第4步" in reply.content
    await wx.send_text("u-far", "跳过")
    assert "区县：待工作人员确定" in (await wx.send_text("u-far", "匿名")).content
    reply = await wx.send_text("u-far", "确认")
    assert "案件编号" in reply.content and "待工作人员核实" in reply.content
    report = (await api_list(service))[0]
    assert report.county is None and report.needs_manual_routing
    assert (report.latitude, report.longitude) == (39.9087, 116.3975)


async def api_list(service: RunningService, **filters: object) -> list[Report]:
    async with service.services.database.session() as session:
        reports, _ = await queries.list_reports(session, **filters)  # type: ignore[arg-type]
    return reports


async def test_border_point_asks_the_reporter(api_service: RunningService) -> None:
    service, wx = api_service, api_service.wx
    await wx.send_text("u-border", "举报")
    await wx.send_text("u-border", "1")
    await wx.send_text("u-border", "某化工厂夜间通过暗管向河道偷排废水")
    # Halfway between the seats of 盐湖区 and 夏县, no label.
    reply = await wx.send_location("u-border", 35.085, 111.10)
    assert "交界" in reply.content and "盐湖区" in reply.content and "夏县" in reply.content
    options = [line for line in reply.content.splitlines() if line[:2] in ("1.", "2.", "3.")]
    chosen = next(line for line in options if "夏县" in line).split(".")[0]
    reply = await wx.send_text("u-border", "9")
    assert "序号" in reply.content  # not an option: asked again, nothing lost
    reply = await wx.send_text("u-border", chosen)
    assert "所属区县：夏县" in reply.content and "第4步" in reply.content
    await wx.send_text("u-border", "跳过")
    await wx.send_text("u-border", "匿名")
    await wx.send_text("u-border", "确认")
    report = (await api_list(service))[0]
    assert report.county == "夏县" and report.county_method == "reporter" and "交界" in report.routing_note


async def test_duplicate_nearby_is_linked_and_both_reporters_hear_of_progress(
    api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    service, wx = api_service, api_service.wx
    first = await file_report(service, "u-first")
    await wx.send_text("u-second", "举报")
    await wx.send_text("u-second", "1")
    await wx.send_text("u-second", "河边那家化工厂又在偷偷排放污水")
    reply = await wx.send_location("u-second", SPOT[0] + 0.001, SPOT[1] + 0.001, YUNCHENG_LABEL)  # ~140 m away
    await wx.send_text("u-second", "跳过")
    await wx.send_text("u-second", "匿名")
    reply = await wx.send_text("u-second", "确认")
    assert first in reply.content and "并入" in reply.content
    second = queries.normalize_case_no(reply.content.split("案件编号：")[1].split()[0])
    assert second != first
    report = await fetch(service, second)
    assert report.status == "duplicate" and report.duplicate_of == first

    async with service.services.database.session() as session:
        await api.change_status(
            session, service.services, first, "accepted", actor="staff", public_reply="已派人核查", now=service.clock()
        )
        await session.commit()
    # Both reporters wrote recently (inside the 48-hour window): the worker sends customer-service texts.
    await OutboxWorker(service.services).run_once()
    assert any("已受理" in d.text and first in d.text for d in fake_wechat.sent_to("u-first"))
    assert any("已受理" in d.text and second in d.text for d in fake_wechat.sent_to("u-second"))
    reply = await wx.send_text("u-second", f"查询 {second}")
    assert first in reply.content and "已派人核查" in reply.content


async def test_too_many_reports_in_a_day(
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, knowledge_base, clock: FakeClock
) -> None:
    config = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_REPORTS_MAX_PER_DAY=2)
    service = await start_service(config, knowledge_base, clock)
    try:
        await file_report(service, "u-busy", location=(35.20, 110.80, "山西省运城市临猗县"))
        await file_report(service, "u-busy", category="3", location=(35.40, 110.85, "山西省运城市万荣县"))
        reply = await service.wx.send_text("u-busy", "举报")
        assert "每日上限" in reply.content and "12369" in reply.content
        assert await count(service, Report) == 2
        clock.advance(days=1)
        assert "第1步" in (await service.wx.send_text("u-busy", "举报")).content
    finally:
        await stop_service(service)


async def test_blocked_user_cannot_report(
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, knowledge_base, clock: FakeClock
) -> None:
    config = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_REPORTS_BLOCKED_OPENIDS="u-spam,u-other")
    service = await start_service(config, knowledge_base, clock)
    try:
        reply = await service.wx.send_text("u-spam", "举报")
        assert "12369" in reply.content and "第1步" not in reply.content
        assert "第1步" in (await service.wx.send_text("u-fine", "举报")).content
    finally:
        await stop_service(service)


async def test_status_change_reaches_the_reporter(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    service, wx = api_service, api_service.wx
    case_no = await file_report(service, "u-notify")
    async with service.services.database.session() as session:
        await api.change_status(session, service.services, case_no, "accepted", actor="张科长", now=service.clock())
        await api.change_status(
            session, service.services, case_no, "investigating", actor="张科长", note="现场检查", now=service.clock()
        )
        await api.change_status(
            session,
            service.services,
            case_no,
            "resolved",
            actor="张科长",
            note="责令停产整改，罚款",
            public_reply="经查属实，已责令该企业停产整改并立案处罚。",
            now=service.clock(),
        )
        await session.commit()
    async with service.services.database.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == "report_update").order_by(OutboxMessage.id)
            )
        ).all()
    assert [r.recipient for r in rows] == ["u-notify"] * 3
    assert all(r.channel == "mp" and r.kind == "routed" for r in rows)
    await OutboxWorker(service.services).run_once()
    texts_sent = [d.text for d in fake_wechat.sent_to("u-notify")]
    assert any("已办结" in t and "停产整改" in t for t in texts_sent)
    reply = await wx.send_text("u-notify", f"查询 {case_no}")
    assert "已办结" in reply.content and "经查属实" in reply.content
    assert "罚款" not in reply.content  # the internal result stays internal
