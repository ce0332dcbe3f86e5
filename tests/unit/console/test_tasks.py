"""Task pages: per-department lists (overdue first), a task's reminders, marking done."""

from __future__ import annotations

from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff, seed_tasks


async def test_department_sees_its_tasks_overdue_first(console_service: RunningService, client_factory) -> None:
    await seed_tasks(console_service.services)
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    status, text, _ = await client.get("/console/tasks")
    assert status == 200
    assert "T01" in text and "T02" in text and "T03" not in text
    assert text.index("T01") < text.index("T02")
    assert "已逾期" in text and "逾期" in text
    _, text, _ = await client.get("/console/tasks?status=open")
    assert "T02" in text and 'href="/console/tasks/T01"' not in text
    assert (await client.get("/console/tasks?status=weird"))[0] == 400


async def test_admin_sees_all_and_filters_by_department(console_service: RunningService, client_factory) -> None:
    await seed_tasks(console_service.services)
    await make_staff(console_service.services, "boss", "市生态环境局", admin=True)
    client = await client_factory()
    await client.login("boss")
    _, text, _ = await client.get("/console/tasks")
    assert all(t in text for t in ("T01", "T02", "T03"))
    _, text, _ = await client.get("/console/tasks?department=%E5%B8%82%E5%8D%AB%E5%81%A5%E5%A7%94")
    assert "T03" in text and 'href="/console/tasks/T01"' not in text
    assert (await client.get("/console/tasks?department=nowhere"))[0] == 400


async def test_task_page_and_mark_done(console_service: RunningService, client_factory) -> None:
    await seed_tasks(console_service.services)
    await make_staff(console_service.services, "eco", "市生态环境局")
    await make_staff(console_service.services, "health", "市卫健委")
    eco = await client_factory()
    await eco.login("eco")
    status, text, _ = await eco.get("/console/tasks/T01")
    assert status == 200 and "制定新污染物环境风险筛查工作计划" in text and "市工信局" in text
    assert "还没有为这项任务安排提醒" in text
    status, _, _ = await eco.post("/console/tasks/T01/done", {"department": "市工信局"})
    assert status == 403
    status, _, _ = await eco.post("/console/tasks/T01/done", {}, csrf=False)
    assert status == 403
    status, _, response = await eco.post("/console/tasks/T01/done", {})
    assert status == 303 and response.headers["Location"] == "/console/tasks/T01"
    _, text, _ = await eco.get("/console/tasks/T01")
    assert "已记录：市生态环境局 完成了任务 T01" in text and "eco" in text
    _, text, _ = await eco.get("/console/tasks?status=overdue")
    assert 'href="/console/tasks/T01"' not in text

    health = await client_factory()
    await health.login("health")
    assert (await health.get("/console/tasks/T01"))[0] == 404
    assert (await health.post("/console/tasks/T01/done", {}))[0] == 404
    assert (await health.get("/console/tasks/<script>"))[0] == 404
    assert (await health.get("/console/tasks/T99"))[0] == 404
