"""Hostile input against the console that once got through: copied cookies, header injection,
linking to another department's case."""

from __future__ import annotations

from sqlalchemy import select
from yarl import URL

from bot.console.session import COOKIE_NAME
from storage.models import Report
from storage.models.console import AuditEntry
from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff, seed_report


async def test_a_cookie_copied_before_logout_is_dead_after_it(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    await client.login("wang")
    copied = client.http.cookie_jar.filter_cookies(URL(client.base + "/console/"))[COOKIE_NAME].value
    thief = await client_factory()
    headers = {"Cookie": f"{COOKIE_NAME}={copied}"}
    assert (await thief.get("/console/reports", headers=headers))[0] == 200
    assert (await client.post("/console/logout"))[0] == 303
    status, _text, response = await thief.get("/console/reports", headers=headers)
    assert status == 303 and response.headers["Location"].startswith("/console/login")
    status, _text, _ = await thief.post("/console/logout", headers=headers, csrf=False)
    assert status == 303
    # Logging in again works, with a new session.
    assert await client.login("wang") == 303
    assert (await client.get("/console/reports"))[0] == 200


async def test_control_characters_in_next_are_refused(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    for target in ("/console/tasks\r\nSet-Cookie: evil=1", "/console/tasks\n", "/console/\x00x", "/console/\x85"):
        client = await client_factory()
        await client.get("/console/login")
        status, _text, response = await client.post(
            "/console/login", {"username": "wang", "password": "correct horse battery", "next": target}
        )
        assert status == 303 and response.headers["Location"] == "/console/reports"
        assert "evil" not in response.headers.getall("Set-Cookie", [""])[0]
        status, text, _ = await client.get("/console/login?next=%2Fconsole%2Ftasks%0D%0ASet-Cookie:%20x")
        assert status == 303  # already logged in: redirected, not broken
    anonymous = await client_factory()
    status, text, _ = await anonymous.get("/console/login?next=%2Fconsole%2Ftasks%0D%0AX:%20y")
    assert status == 200 and 'value="/console/tasks' not in text


async def test_duplicate_target_must_be_visible(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "env", "市生态环境局")
    mine = await seed_report(services, category="discharge")
    theirs = await seed_report(services, category="pesticide", description="农田边堆放大量农药包装废弃物无人回收")
    client = await client_factory()
    await client.login("env")
    assert (await client.get(f"/console/reports/{theirs}"))[0] == 404  # not visible to this account
    replies = {}
    for target in (theirs, "YC20990101-9999"):
        status, text, _ = await client.post(
            f"/console/reports/{mine}/action", {"action": "duplicate", "duplicate_of": target}
        )
        assert status == 400
        replies[target] = text.replace(target, "<case>")
    assert replies[theirs] == replies["YC20990101-9999"]  # unknown and invisible look the same
    async with services.database.session() as db:
        report = await db.scalar(select(Report).where(Report.case_no == mine))
        audit = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "report_duplicate"))).all()
    assert report is not None and report.status == "submitted" and report.duplicate_of is None
    assert audit == []


async def test_data_requests_page_is_for_admins_and_refuses_bad_ids(
    console_service: RunningService, client_factory
) -> None:
    services = console_service.services
    await make_staff(services, "env", "市生态环境局")
    await make_staff(services, "root", "市生态环境局", admin=True)
    staff = await client_factory()
    await staff.login("env")
    assert (await staff.get("/console/privacy"))[0] == 403
    assert (await staff.post("/console/privacy/1/erase"))[0] == 403
    admin = await client_factory()
    await admin.login("root")
    status, text, _ = await admin.get("/console/privacy")
    assert status == 200 and "没有请求" in text
    for bad in ("999", "abc", "1" * 40, "-1"):
        status, text, _ = await admin.post(f"/console/privacy/{bad}/erase")
        assert status == 404 and "没有编号为P" in text
    assert (await admin.get("/console/privacy/1/erase"))[0] == 405
