"""Report list, case page, actions, photos, identity reveal and visibility, over real HTTP."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from storage.models.console import AuditEntry
from storage.models.reports import Report
from tests.conftest import RunningService
from tests.unit.console.helpers import ConsoleClient, make_staff, sample_jpeg, seed_report

PHOTO_RE = re.compile(r'<img src="(/console/photos/[^"]+)"')


async def _status(service: RunningService, case_no: str) -> str:
    async with service.services.database.session() as db:
        return (await db.scalar(select(Report.status).where(Report.case_no == case_no))) or ""


async def _outbox_for(service: RunningService, openid: str) -> list[OutboxMessage]:
    async with service.services.database.session() as db:
        return list((await db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == openid))).all())


async def _act(client: ConsoleClient, case_no: str, **form: str) -> tuple[int, str]:
    status, text, _ = await client.post(f"/console/reports/{case_no}/action", form)
    return status, text


async def _logged_in(client_factory, username: str) -> ConsoleClient:  # type: ignore[no-untyped-def]
    client = await client_factory()
    assert await client.login(username) == 303
    return client


async def test_list_case_page_and_photo(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    photo = sample_jpeg()
    case_no = await seed_report(services, photos=(photo,))
    client = await _logged_in(client_factory, "eco")
    status, text, _ = await client.get("/console/reports")
    assert status == 200 and case_no in text
    status, text, _ = await client.get(f"/console/reports/{case_no}")
    assert status == 200
    assert "偷排黑色废水" in text and "uri.amap.com/marker?position=110.987600,35.031200" in text
    assert "匿名" in text
    url = PHOTO_RE.search(text).group(1)
    assert case_no not in url  # the photo route is opaque
    status, _body, response = await client.get(url)
    assert status == 200 and response.content_type == "image/jpeg"
    assert response.body_bytes == photo and "no-store" in response.headers["Cache-Control"]


async def test_filters_sort_and_paging(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "admin", "市生态环境局", admin=True)
    clock = console_service.clock
    start = clock()
    cases = []
    for index in range(25):
        cases.append(
            await seed_report(
                services,
                openid=f"o-{index}",
                category="pesticide" if index % 5 == 0 else "discharge",
                county="临猗县" if index % 2 else "盐湖区",
                latitude=35.0 + index * 0.01,
                longitude=110.9 + index * 0.01,
                at=start + timedelta(days=index),
            )
        )
    client = await _logged_in(client_factory, "admin")
    status, text, _ = await client.get("/console/reports")
    assert status == 200 and 'id="total">25<' in text and "第 1 / 2 页" in text
    assert text.index(cases[24]) < text.index(cases[23])  # newest first
    status, text, _ = await client.get("/console/reports?page=2")
    assert cases[0] in text and cases[24] not in text
    _, text, _ = await client.get("/console/reports?sort=old")
    assert text.index(cases[0]) < text.index(cases[1])
    _, text, _ = await client.get("/console/reports?category=pesticide")
    assert 'id="total">5<' in text and cases[5] in text and cases[6] not in text
    assert "市农业农村局" in text
    query = urlencode({"county": "临猗县", "department": "市生态环境局"})
    _, text, _ = await client.get(f"/console/reports?{query}")
    assert 'id="total">10<' in text  # odd indexes minus the pesticide ones (5, 15)
    first_day = (start + timedelta(hours=8)).date()
    query = urlencode({"date_from": first_day + timedelta(days=2), "date_to": first_day + timedelta(days=4)})
    _, text, _ = await client.get(f"/console/reports?{query}")
    assert 'id="total">3<' in text and cases[2] in text and cases[4] in text and cases[5] not in text
    _, text, _ = await client.get("/console/reports?status=submitted")
    assert 'id="total">25<' in text
    _, text, _ = await client.get(f"/console/reports?q={cases[7]}")
    assert 'id="total">1<' in text


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "category=nope",
        "county=北京",
        "department=无此局",
        "date_from=2026-13-01",
        "date_from=2026-05-02&date_to=2026-05-01",
        "sort=evil",
        "page=0",
        "page=abc",
        "q=" + "x" * 100,
    ],
)
async def test_bad_filters_give_400(console_service: RunningService, client_factory, query: str) -> None:
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await _logged_in(client_factory, "eco")
    status, text, _ = await client.get(f"/console/reports?{query}")
    assert status == 400 and "筛选条件有误" in text


async def test_department_visibility(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "agri", "市农业农村局")
    await make_staff(services, "linyi", "临猗县政府")
    eco_case = await seed_report(services, county="盐湖区")
    agri_case = await seed_report(
        services, category="pesticide", county="临猗县", latitude=35.15, longitude=110.77, photos=(sample_jpeg(),)
    )
    eco = await _logged_in(client_factory, "eco")
    agri = await _logged_in(client_factory, "agri")
    linyi = await _logged_in(client_factory, "linyi")

    _, text, _ = await eco.get("/console/reports")
    assert eco_case in text and agri_case not in text
    status, text, _ = await eco.get(f"/console/reports/{agri_case}")
    assert status == 404 and agri_case in text and "不属于您的部门" in text
    _, text, _ = await agri.get(f"/console/reports/{agri_case}")
    photo_url = PHOTO_RE.search(text).group(1)
    status, _, _ = await eco.get(photo_url)
    assert status == 404
    status, _, _ = await eco.post(f"/console/reports/{agri_case}/action", {"action": "accept"})
    assert status == 404
    assert await _status(console_service, agri_case) == "submitted"

    # A county government sees the reports located in its county, whoever handles them.
    _, text, _ = await linyi.get("/console/reports")
    assert agri_case in text and eco_case not in text
    status, text, _ = await linyi.get(f"/console/reports/{agri_case}")
    assert status == 200 and "本案由 市农业农村局 办理" in text
    status, _, _ = await linyi.post(f"/console/reports/{agri_case}/action", {"action": "accept"})
    assert status == 403
    status, _, _ = await linyi.post(f"/console/reports/{agri_case}/action", {"action": "note", "note": "县里已派人"})
    assert status == 303


async def test_unauthenticated_case_page_and_photo_are_refused(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    case_no = await seed_report(services, photos=(sample_jpeg(),))
    staff = await _logged_in(client_factory, "eco")
    _, text, _ = await staff.get(f"/console/reports/{case_no}")
    photo_url = PHOTO_RE.search(text).group(1)
    anonymous = await client_factory()
    status, body, response = await anonymous.get(f"/console/reports/{case_no}")
    assert status == 303 and response.headers["Location"].startswith("/console/login")
    assert "偷排" not in body
    status, body, _ = await anonymous.get(photo_url)
    assert status == 401 and "需要登录" in body
    status, _, _ = await anonymous.get("/console/reports/export.csv")
    assert status == 303
    status, _, _ = await anonymous.post(f"/console/reports/{case_no}/action", {"action": "accept"})
    assert status == 401
    assert await _status(console_service, case_no) == "submitted"


async def test_forged_photo_tokens(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await _logged_in(client_factory, "eco")
    for token in ("abc", "x" * 400, "WyJZQzIwMjYxMTIwLTAwMDEiLDFd.bad", "..%2F..%2Fetc%2Fpasswd"):
        status, _, _ = await client.get(f"/console/photos/{token}")
        assert status == 404


async def test_accept_investigate_resolve_notify_the_reporter(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    case_no = await seed_report(services, openid="o-rep")
    client = await _logged_in(client_factory, "eco")
    _, page, _ = await client.get(f"/console/reports/{case_no}")
    assert "受理即公开发布上面的摘要" in page and "河边有工厂夜里偷排黑色废水" in page  # prefilled summary
    status, text, _ = await client.post(f"/console/reports/{case_no}/action", {"action": "accept"})
    assert status == 400 and "须填写公开摘要" in text  # accepting publishes: a summary is required
    summary = {"action": "accept", "public_summary": "河边有工厂夜里排放废水"}
    status, _, response = await client.post(f"/console/reports/{case_no}/action", summary)
    assert status == 303 and response.headers["Location"] == f"/console/reports/{case_no}"
    _, text, _ = await client.get(f"/console/reports/{case_no}")
    assert "已受理案件" in text and await _status(console_service, case_no) == "accepted"
    await _act(client, case_no, action="investigate", note="已派执法人员")
    status, _, _ = await client.post(
        f"/console/reports/{case_no}/action",
        {
            "action": "resolve",
            "note": "现场查实，已责令停产整改",
            "public_reply": "经查属实，已依法立案处罚。感谢您的监督！",
        },
    )
    assert status == 303 and await _status(console_service, case_no) == "resolved"
    _, text, _ = await client.get(f"/console/reports/{case_no}")
    assert "经查属实" in text and "现场查实" in text
    messages = await _outbox_for(console_service, "o-rep")
    assert len(messages) == 3
    assert "经查属实，已依法立案处罚" in messages[-1].payload["content"]
    async with services.database.session() as db:
        audit = (await db.scalars(select(AuditEntry.action).where(AuditEntry.case_no == case_no))).all()
    assert audit == ["report_accept", "report_investigate", "report_resolve"]


async def test_reject_duplicate_transfer_and_notes(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    first = await seed_report(services, openid="o-a")
    second = await seed_report(services, openid="o-b", latitude=35.3, longitude=111.2, county="夏县")
    third = await seed_report(services, openid="o-c", latitude=35.5, longitude=111.5, county="绛县")
    client = await _logged_in(client_factory, "eco")

    # Rejecting needs a reason and the competent authority; what was typed comes back.
    status, text, _ = await client.post(
        f"/console/reports/{first}/action", {"action": "reject", "reason": "不属于环保"}
    )
    assert status == 400 and "不予受理须填写理由" in text and "不属于环保" in text
    status, _, _ = await client.post(
        f"/console/reports/{first}/action",
        {"action": "reject", "reason": "属于噪声扰民", "competent_authority": "公安机关"},
    )
    assert status == 303 and await _status(console_service, first) == "rejected"
    assert "公安机关" in (await _outbox_for(console_service, "o-a"))[-1].payload["content"]

    status, text, _ = await client.post(
        f"/console/reports/{second}/action", {"action": "duplicate", "duplicate_of": second}
    )
    assert status == 400 and "不能把案件标记为它自己的重复" in text
    status, text, _ = await client.post(
        f"/console/reports/{second}/action", {"action": "duplicate", "duplicate_of": "YC1"}
    )
    assert status == 400
    status, _, _ = await client.post(
        f"/console/reports/{second}/action", {"action": "duplicate", "duplicate_of": third}
    )
    assert status == 303 and await _status(console_service, second) == "duplicate"

    status, _, _ = await client.post(
        f"/console/reports/{third}/action", {"action": "note", "note": "内部：先核实企业名称"}
    )
    assert status == 303
    _, text, _ = await client.get(f"/console/reports/{third}")
    assert "先核实企业名称" in text and "内部备注" in text
    assert all("先核实" not in m.payload.get("content", "") for m in await _outbox_for(console_service, "o-c"))

    status, text, _ = await client.post(
        f"/console/reports/{third}/action", {"action": "transfer", "department": "无此局"}
    )
    assert status == 400 and "没有这个部门" in text
    status, _, _ = await client.post(
        f"/console/reports/{third}/action", {"action": "transfer", "department": "运城海关", "note": "涉及走私"}
    )
    assert status == 303
    status, _, _ = await client.get(f"/console/reports/{third}")
    assert status == 404  # no longer ours

    status, text = await _act(client, first, action="accept")
    assert status == 400 and "不能执行这个操作" in text


async def test_bad_actions_and_fields(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    case_no = await seed_report(services)
    client = await _logged_in(client_factory, "eco")
    status, text = await _act(client, case_no, action="explode")
    assert status == 400 and "未知的操作" in text
    status, text = await _act(client, case_no, action="note", note="很" * 2500)
    assert status == 400 and "太长了" in text
    status, text = await _act(client, case_no, action="note", note="  ")
    assert status == 400 and "备注内容不能为空" in text
    status, text, _ = await client.post(f"/console/reports/{case_no}/action", {"action": "accept"}, csrf=False)
    assert status == 403 and "表单校验失败" in text
    status, text, _ = await client.post(
        f"/console/reports/{case_no}/action", {"action": "accept", "csrf_token": "forged"}
    )
    assert status == 403
    assert await _status(console_service, case_no) == "submitted"
    status, text, response = await client.get(f"/console/reports/{case_no}/action")
    assert status == 405 and "请求方式不对" in text and "POST" in response.headers["Allow"]
    for path in ("/console/reports/..%2F..%2Fetc", "/console/reports/" + "9" * 200, "/console/reports/YC%00"):
        status, text, _ = await client.get(path)
        assert status == 404
    status, text, _ = await client.get("/console/nowhere")
    assert status == 404 and "未找到" in text
    status, _, _ = await client.post(
        f"/console/reports/{case_no}/action",
        data=None,
        headers={"Content-Type": "application/json"},
        csrf=False,
    )
    assert status == 415
    async with client.http.post(
        client.base + f"/console/reports/{case_no}/action",
        data=b"a=" + b"x" * (300 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    ) as response:
        assert response.status == 413
    assert await _status(console_service, case_no) == "submitted"


async def test_reveal_is_for_admins_and_logged(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "boss", "市生态环境局", admin=True)
    case_no = await seed_report(services, real_name=True, name="张三丰", phone="13812345678")
    anonymous_case = await seed_report(services, latitude=35.4, longitude=111.0)
    eco = await _logged_in(client_factory, "eco")
    _, text, _ = await eco.get(f"/console/reports/{case_no}")
    assert "张三丰" not in text and "13812345678" not in text and "查看实名信息" not in text
    assert "138****5678" in text
    status, _, _ = await eco.post(f"/console/reports/{case_no}/reveal")
    assert status == 403

    boss = await _logged_in(client_factory, "boss")
    _, text, _ = await boss.get(f"/console/reports/{case_no}")
    assert "张三丰" not in text and "查看实名信息" in text
    status, _, _ = await boss.get(f"/console/reports/{case_no}/reveal")
    assert status == 405
    status, text, response = await boss.post(f"/console/reports/{case_no}/reveal")
    assert status == 200 and "张三丰" in text and "13812345678" in text
    assert response.headers["Cache-Control"] == "no-store"
    _, text, _ = await boss.get(f"/console/reports/{case_no}")
    assert "张三丰" not in text  # shown once, not kept
    status, _, _ = await boss.post(f"/console/reports/{anonymous_case}/reveal")
    assert status == 303
    async with services.database.session() as db:
        reveals = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_identity"))).all()
    assert [(r.actor, r.case_no) for r in reveals] == [("boss", case_no)]


async def test_pages_work_without_javascript_and_have_no_external_resources(
    console_service: RunningService, client_factory
) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    case_no = await seed_report(services)
    client = await _logged_in(client_factory, "eco")
    for path in ("/console/reports", f"/console/reports/{case_no}", "/console/tasks", "/console/login"):
        _, text, response = await client.get(path)
        assert "<script" not in text
        assert not re.search(r'src="(https?:)?//', text)
        assert not re.search(r'<link[^>]+href="(https?:)?//', text)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    status, css, response = await client.get("/console/static/console.css")
    assert status == 200 and response.content_type == "text/css" and "@media" in css
    assert (await client.get("/console/static/..%2Fcommon.py"))[0] == 404
    assert (await client.get("/console/static/nothing.css"))[0] == 404


async def test_audit_page_is_for_admins(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "boss", "市生态环境局", admin=True)
    case_no = await seed_report(services, real_name=True, name="赵六", phone="13600003333")
    eco = await _logged_in(client_factory, "eco")
    assert (await eco.get("/console/audit"))[0] == 403
    boss = await _logged_in(client_factory, "boss")
    await boss.post(f"/console/reports/{case_no}/reveal")
    status, text, _ = await boss.get(f"/console/audit?case_no={case_no}")
    assert status == 200 and "查看实名举报人身份" in text and "boss" in text
    assert "赵六" not in text
    _, text, _ = await boss.get(f"/console/reports/{case_no}")
    assert "身份查看记录：boss" in text
    _, text, _ = await boss.get("/console/audit?action=login")
    assert "eco" in text and "查看实名举报人身份" not in text.split("</select>")[-1]
    assert (await boss.get("/console/audit?action=drop"))[0] == 400
    assert (await boss.get("/console/audit?case_no=%3Cscript%3E"))[0] == 400


async def test_console_root_redirects(console_service: RunningService, client_factory) -> None:
    client = await client_factory()
    status, _, response = await client.get("/console")
    assert status == 303 and response.headers["Location"] == "/console/"
    status, _, response = await client.get("/console/")
    assert status == 303 and response.headers["Location"] == "/console/login"


async def test_manual_routing_of_a_report_without_county(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "xia", "夏县政府")
    case_no = await seed_report(services, county=None, latitude=None, longitude=None, address="某化工厂后门")
    client = await _logged_in(client_factory, "eco")
    _, text, _ = await client.get(f"/console/reports/{case_no}")
    assert "待人工分派" in text and "人工分派县(市、区)" in text and "在地图中查看" not in text
    status, text = await _act(client, case_no, action="county", county="北京市")
    assert status == 400 and "请从列表中选择县(市、区)" in text
    status, _ = await _act(client, case_no, action="county", county="夏县", note="电话核实在夏县")
    assert status == 303
    _, text, _ = await client.get(f"/console/reports/{case_no}")
    assert f"已将案件 {case_no} 分派到 夏县" in text and "电话核实在夏县" in text
    xia = await _logged_in(client_factory, "xia")
    status, text, _ = await xia.get(f"/console/reports/{case_no}")
    assert status == 200 and "某化工厂后门" in text


async def test_hostile_encodings(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await _logged_in(client_factory, "eco")
    for path in (
        "/console/reports?status=%ff%fe",
        "/console/reports?date_from=2026-05-01%00",
        "/console/reports?date_from=2026-05-01garbage",
        "/console/reports?page=99999999999999999999",
        "/console/reports/%ff%fe",
        "/console/tasks?status=%00",
    ):
        status, text, _ = await client.get(path)
        assert status in (400, 404), path
        assert "<!doctype html>" in text
    status, _, _ = await client.get("/console/reports?page=40")
    assert status == 200
    async with client.http.post(
        client.base + "/console/reports/YC1/action",
        data=b"\xff\xfe=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    ) as response:
        assert response.status in (400, 403)


async def test_expired_session_post_and_logout(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    case_no = await seed_report(services)
    client = await _logged_in(client_factory, "eco")
    console_service.clock.advance(seconds=console_service.config.console.session_max_age_seconds + 1)
    status, text = await _act(client, case_no, action="accept")
    assert status == 401 and "登录已过期" in text
    status, _, response = await client.post("/console/logout")
    assert status == 303 and response.headers["Location"] == "/console/login"
    assert await _status(console_service, case_no) == "submitted"
