"""The reports domain API on SQLite and PostgreSQL: filing, case numbers, duplicates, the state machine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.reports import catalog, filing, present
from bot.reports import workflow as api
from bot.services import Services
from storage import report_queries as queries
from storage.contacts import add_wecom_contact, resolve_department
from storage.models import OutboxMessage, Report, ReportEvent, ReportPhoto
from tests.support.clock import FakeClock

HERE = (35.0312, 111.0075)


def draft(draft_id: str, **fields: object) -> filing.ReportDraft:
    values: dict = dict(
        category="discharge",
        description="某化工厂夜间偷排废水",
        latitude=HERE[0],
        longitude=HERE[1],
        address="山西省运城市盐湖区",
        location_source="pin",
        county="盐湖区",
        county_method="label",
    )
    values.update(fields)
    return filing.ReportDraft(draft_id=draft_id, **values)


async def file(services: Services, draft_id: str, openid: str = "u1", **fields: object) -> Report:
    async with services.database.session() as session:
        report = await filing.create_report(
            session, services, draft(draft_id, **fields), openid=openid, now=services.now()
        )
        await session.commit()
    return report


async def outbox(services: Services, purpose: str) -> list[OutboxMessage]:
    async with services.database.session() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.purpose == purpose).order_by(OutboxMessage.id)
        return list((await session.scalars(stmt)).all())


async def test_filing_gives_a_case_number_and_a_history(services: Services) -> None:
    report = await file(services, "d1")
    assert report.case_no == f"YC20261120-{report.id:04d}"
    assert report.status == "submitted" and report.department == "市生态环境局"
    assert [(e.kind, e.actor, e.to_status) for e in report.events] == [("created", "reporter", "submitted")]


async def test_filing_the_same_draft_twice_files_once(services: Services) -> None:
    first = await file(services, "same")
    second = await file(services, "same")
    assert first.case_no == second.case_no
    async with services.database.session() as session:
        assert await session.scalar(select(func.count(Report.id))) == 1


async def test_one_draft_confirmed_twice_at_once_files_once(services: Services) -> None:
    first, second = await asyncio.gather(file(services, "twice"), file(services, "twice"))
    assert first.case_no == second.case_no
    async with services.database.session() as session:
        assert await session.scalar(select(func.count(Report.id))) == 1


async def test_case_numbers_are_unique_when_filed_concurrently(services: Services) -> None:
    async def one(i: int) -> str:
        # Far apart, so none is a duplicate of another.
        report = await file(services, f"c{i}", openid=f"u{i}", latitude=34.7 + i * 0.02, longitude=110.5)
        assert report.case_no is not None
        return report.case_no

    numbers = await asyncio.gather(*(one(i) for i in range(20)))
    assert len(set(numbers)) == 20
    async with services.database.session() as session:
        assert await session.scalar(select(func.count(Report.id))) == 20


async def test_case_number_uses_the_local_date(services: Services, clock: FakeClock) -> None:
    clock.set(datetime(2026, 11, 20, 17, 30, tzinfo=UTC))  # 01:30 on the 21st in Yuncheng
    report = await file(services, "late")
    assert report.case_no is not None and report.case_no.startswith("YC20261121-")


async def test_the_draft_photos_move_to_the_report(services: Services) -> None:
    async with services.database.session() as session:
        for media in ("m1", "m2"):
            await queries.add_draft_photo(session, openid="u1", draft_id="dp", media_id=media, now=services.now())
        await queries.add_draft_photo(session, openid="u1", draft_id="other", media_id="m3", now=services.now())
        await queries.add_draft_photo(session, openid="u2", draft_id="dp", media_id="m4", now=services.now())
        await session.commit()
    report = await file(services, "dp")
    assert [(p.media_id, p.position) for p in report.photos] == [("m1", 1), ("m2", 2)]


async def test_a_nearby_open_report_of_the_same_category_is_a_duplicate(services: Services, clock: FakeClock) -> None:
    original = await file(services, "o1")
    near = await file(services, "n1", openid="u2", latitude=HERE[0] + 0.0015, longitude=HERE[1])  # ~170 m
    assert near.status == "duplicate" and near.duplicate_of == original.case_no
    far = await file(services, "f1", openid="u3", latitude=HERE[0] + 0.004, longitude=HERE[1])  # ~450 m
    other_kind = await file(services, "k1", openid="u4", category="toys")
    typed = await file(services, "t1", openid="u5", latitude=None, longitude=None, location_source="typed")
    assert [r.status for r in (far, other_kind, typed)] == ["submitted"] * 3
    clock.advance(days=8)
    later = await file(services, "l1", openid="u6")
    assert later.status == "submitted"  # outside the 7-day window (the original and `far` are older)


async def test_a_closed_report_is_not_an_original(services: Services) -> None:
    original = await file(services, "o1")
    async with services.database.session() as session:
        await api.change_status(
            session,
            services,
            original.case_no or "",
            "rejected",
            actor="s",
            reason="非本部门职责",
            competent_authority="市住建局",
            now=services.now(),
        )
        await session.commit()
    assert (await file(services, "n1", openid="u2")).status == "submitted"


async def test_the_state_machine(services: Services) -> None:
    report = await file(services, "sm")
    case = report.case_no or ""

    async def change(status: str, **kw: object) -> Report:
        async with services.database.session() as session:
            result = await api.change_status(session, services, case, status, actor="张科长", now=services.now(), **kw)
            await session.commit()
            return result

    with pytest.raises(api.ReportError, match="不能从"):
        await change("resolved", note="x", public_reply="y")
    with pytest.raises(api.ReportError, match="未知状态"):
        await change("done")
    with pytest.raises(queries.ReportNotFound):
        async with services.database.session() as session:
            await api.change_status(session, services, "YC20990101-9999", "accepted", actor="a", now=services.now())
    with pytest.raises(api.ReportError, match="操作人"):
        await _blank_actor(services, case)
    await change("accepted", public_reply="已受理，将派员核查")
    await change("investigating", note="已到现场")
    with pytest.raises(api.ReportError, match="办结"):
        await change("resolved", note="已整改")  # the reply to the reporter is missing
    await change("resolved", note="责令整改", public_reply="经查属实，已责令整改")
    done = await change("closed")
    assert done.status == "closed" and done.result == "责令整改" and done.public_reply == "经查属实，已责令整改"
    history = [(e.from_status, e.to_status, e.actor) for e in done.events if e.kind == "status"]
    assert history == [
        ("submitted", "accepted", "张科长"),
        ("accepted", "investigating", "张科长"),
        ("investigating", "resolved", "张科长"),
        ("resolved", "closed", "张科长"),
    ]
    with pytest.raises(api.ReportError):
        await change("investigating")
    notices = await outbox(services, "report_update")
    assert len(notices) == 4 and {n.recipient for n in notices} == {"u1"}
    assert all(n.channel == "mp" and n.kind == "routed" for n in notices)
    assert "经查属实" in notices[2].payload["content"] and "责令整改" not in notices[2].payload["content"].replace(
        "经查属实，已责令整改", ""
    )


async def _blank_actor(services: Services, case: str) -> None:
    async with services.database.session() as session:
        await api.change_status(session, services, case, "accepted", actor="  ", now=services.now())


async def test_rejection_needs_a_reason_and_the_competent_authority(services: Services) -> None:
    case = (await file(services, "rj")).case_no or ""
    async with services.database.session() as session:
        with pytest.raises(api.ReportError, match="不予受理"):
            await api.change_status(
                session, services, case, "rejected", actor="a", reason="不属于环保", now=services.now()
            )
        report = await api.change_status(
            session,
            services,
            case,
            "rejected",
            actor="a",
            reason="属于噪声扰民",
            competent_authority="派出所",
            now=services.now(),
        )
        await session.commit()
    assert (report.reject_reason, report.competent_authority) == ("属于噪声扰民", "派出所")
    (notice,) = await outbox(services, "report_update")
    assert "派出所" in notice.payload["content"] and "属于噪声扰民" in notice.payload["content"]


async def test_marking_a_duplicate_links_to_the_root_and_progress_reaches_linked_reporters(services: Services) -> None:
    root = await file(services, "r", openid="u-root")
    middle = await file(services, "m", openid="u-mid", latitude=34.9, longitude=110.5)
    leaf = await file(services, "l", openid="u-leaf", latitude=35.3, longitude=111.6)
    async with services.database.session() as session:
        with pytest.raises(api.ReportError, match="并案"):
            await api.change_status(
                session,
                services,
                middle.case_no or "",
                "duplicate",
                actor="a",
                duplicate_of="YC20990101-0001",
                now=services.now(),
            )
        with pytest.raises(api.ReportError, match="并案"):
            await api.change_status(
                session,
                services,
                middle.case_no or "",
                "duplicate",
                actor="a",
                duplicate_of=middle.case_no,
                now=services.now(),
            )
        await api.change_status(
            session,
            services,
            middle.case_no or "",
            "duplicate",
            actor="a",
            duplicate_of=root.case_no,
            now=services.now(),
        )
        linked = await api.change_status(
            session,
            services,
            leaf.case_no or "",
            "duplicate",
            actor="a",
            duplicate_of=middle.case_no,
            now=services.now(),
        )
        assert linked.duplicate_of == root.case_no
        await session.commit()
    before = len(await outbox(services, "report_update"))
    async with services.database.session() as session:
        await api.change_status(
            session, services, root.case_no or "", "accepted", actor="a", public_reply="已受理", now=services.now()
        )
        await session.commit()
    new = (await outbox(services, "report_update"))[before:]
    assert sorted(n.recipient for n in new) == ["u-leaf", "u-mid", "u-root"]
    assert all(root.case_no in n.payload["content"] for n in new)
    # A wrongly linked report can be accepted on its own again.
    async with services.database.session() as session:
        back = await api.change_status(session, services, leaf.case_no or "", "accepted", actor="a", now=services.now())
        await session.commit()
    assert back.duplicate_of is None


async def test_list_filters_sorts_and_pages(services: Services, clock: FakeClock) -> None:
    for i in range(5):
        await file(services, f"a{i}", openid=f"u{i}", latitude=34.7 + i * 0.05, longitude=110.5)
        clock.advance(minutes=1)
    await file(services, "toy", openid="ux", category="toys", county=None, needs_manual_routing=True)
    async with services.database.session() as session:
        page, total = await queries.list_reports(session, limit=2)
        assert total == 6 and [r.category for r in page] == ["toys", "discharge"]
        page2, _ = await queries.list_reports(session, limit=2, offset=2)
        assert not {r.id for r in page} & {r.id for r in page2}
        oldest, _ = await queries.list_reports(session, sort="created_at", limit=1)
        assert oldest[0].draft_id == "a0"
        toys, n = await queries.list_reports(session, category="toys")
        assert n == 1 and toys[0].department == "市市场监管局"
        manual, n = await queries.list_reports(session, county="-")
        assert n == 1 and manual[0].needs_manual_routing
        _, n = await queries.list_reports(session, department="市生态环境局", status="submitted", county="盐湖区")
        assert n == 5
        _, n = await queries.list_reports(session, date_from=clock() - timedelta(minutes=2), date_to=clock())
        assert n == 2
        bogus, n = await queries.list_reports(session, sort="; drop table reports", limit=1)
        assert n == 6 and len(bogus) == 1


async def test_json_shape_and_privacy(services: Services) -> None:
    report = await file(services, "p", real_name=True, reporter_name="张三丰", reporter_phone="13812345678")
    data = present.report_to_dict(report)
    for key in (
        "case_no",
        "status",
        "category",
        "description",
        "latitude",
        "longitude",
        "address",
        "county",
        "department",
        "photos",
        "created_at",
        "history",
    ):
        assert key in data
    assert "13812345678" not in str(data) and "张三丰" not in str(data) and "u1" not in str(data)
    assert data["reporter"] == "实名举报人（张**，138****5678）"
    private = present.report_to_dict(report, include_private=True)["reporter_private"]
    assert private == {"openid": "u1", "name": "张三丰", "phone": "13812345678"}
    anonymous = await file(
        services,
        "q",
        openid="u9",
        reporter_name="ignored",
        reporter_phone="13800000000",
        latitude=34.7,
        longitude=110.5,
    )
    assert present.reporter_masked(anonymous) == "匿名举报人" and anonymous.reporter_phone == ""


async def test_new_case_notices_go_to_the_department_and_the_county(services: Services) -> None:
    async with services.database.session() as session:
        for dept, userid in (
            ("市市场监管局", "samr"),
            ("市卫健委", "health"),
            ("临猗县政府", "linyi"),
            ("市生态环境局", "epb"),
        ):
            await add_wecom_contact(
                session, await resolve_department(session, dept), userid, name="值班", now=services.now()
            )
        await session.commit()
    await file(services, "drug", category="antibiotic_sale", county="临猗县", latitude=35.15, longitude=110.77)
    notices = await outbox(services, "notice")
    assert sorted(n.recipient for n in notices) == ["health", "linyi", "samr"]
    report = await file(
        services, "dup", openid="u2", category="antibiotic_sale", county="临猗县", latitude=35.1501, longitude=110.77
    )
    assert report.status == "duplicate" and len(await outbox(services, "notice")) == 3


async def test_transfer_county_and_notes(services: Services) -> None:
    case = (await file(services, "t", county=None, needs_manual_routing=True)).case_no or ""
    async with services.database.session() as session:
        with pytest.raises(api.ReportError, match="没有名为"):
            await api.transfer(session, services, case, "不存在的局", actor="a", note="", now=services.now())
        with pytest.raises(api.ReportError, match="未知区县"):
            await api.set_county(session, services, case, "临汾市", actor="a", now=services.now())
        with pytest.raises(api.ReportError, match="备注"):
            await api.add_internal_note(session, case, "  ", actor="a", now=services.now())
        await api.transfer(session, services, case, "市住建局", actor="a", note="建筑工地", now=services.now())
        await api.set_county(session, services, case, "运城开发区", actor="a", now=services.now())
        await api.add_internal_note(session, case, "电话联系了企业", actor="b", now=services.now())
        await session.commit()
    async with services.database.session() as session:
        report = await queries.get_report(session, case.lower())
        events = (await session.scalars(select(ReportEvent).where(ReportEvent.kind != "created"))).all()
    assert report is not None
    assert (report.department, report.county, report.needs_manual_routing) == ("市住建局", "运城开发区", False)
    assert [(e.kind, e.internal) for e in events] == [("transfer", True), ("county", True), ("note", True)]
    assert not await outbox(services, "report_update")  # internal changes do not message the reporter


async def test_reports_today_counts_from_local_midnight(services: Services, clock: FakeClock) -> None:
    clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # 23:00 local
    await file(services, "a")
    async with services.database.session() as session:
        zone = catalog.local_zone(services)
        assert await queries.count_reports_today(session, "u1", clock(), zone) == 1
        assert await queries.count_reports_today(session, "u1", clock() + timedelta(hours=1, minutes=1), zone) == 0


async def test_pending_photos_are_adopted_within_the_window(services: Services, clock: FakeClock) -> None:
    async with services.database.session() as session:
        await queries.add_draft_photo(session, openid="u1", draft_id=None, media_id="old", now=clock())
        clock.advance(minutes=90)
        await queries.add_draft_photo(session, openid="u1", draft_id=None, media_id="new", now=clock())
        adopted = await queries.adopt_pending_photos(
            session, openid="u1", draft_id="d", since=clock() - timedelta(minutes=60), limit=9
        )
        await session.commit()
        photos = (await session.scalars(select(ReportPhoto).order_by(ReportPhoto.id))).all()
    assert adopted == 1 and [(p.media_id, p.draft_id) for p in photos] == [("old", None), ("new", "d")]


async def test_long_replies_are_clipped_in_the_notice(services: Services) -> None:
    case = (await file(services, "long")).case_no or ""
    async with services.database.session() as session:
        await api.change_status(
            session, services, case, "accepted", actor="a", public_reply="答复" * 900, now=services.now()
        )
        with pytest.raises(api.ReportError, match="太长"):
            await api.change_status(
                session, services, case, "investigating", actor="a", note="x" * 2001, now=services.now()
            )
        await session.commit()
    (notice,) = await outbox(services, "report_update")
    assert len(notice.payload["content"]) < 400 and notice.payload["content"].count("…") == 1
    async with services.database.session() as session:
        report = await queries.get_report(session, case)
    assert report is not None and report.public_reply == "答复" * 900  # stored whole, shown whole in the console
