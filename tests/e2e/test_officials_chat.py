"""Officials in the chat with the plan's real tasks: 我的任务 pages (更多, 我的任务 2), lead marks, 完成 usage."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot import texts
from bot.tasks.planfile import ensure_seed_tasks
from bot.tasks.status import list_tasks
from storage.contacts import create_binding_code, resolve_department
from tests.conftest import PROJECT_ROOT, RunningService

PLAN_TASKS = PROJECT_ROOT / "knowledge" / "data" / "tasks.toml"
NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 in Yuncheng, a Friday
TASK_LINE = re.compile(r"^(T[0-9A-Z-]+)｜(.+?)(【牵头】)?$", re.M)


async def bind(service: RunningService, openid: str, department: str, name: str) -> None:
    async with service.services.database.session() as session:
        unit = await resolve_department(session, department)
        code, _row = await create_binding_code(session, unit, name=name, now=service.clock())
        await session.commit()
    assert "绑定成功" in (await service.wx.send_text(openid, f"绑定 {code}")).content


async def open_tasks(service: RunningService, department: str) -> list:  # type: ignore[type-arg]
    async with service.services.database.session() as session:
        return await list_tasks(session, department=department, now=service.clock(), open_only=True)


@pytest.fixture
async def plan(service: RunningService) -> RunningService:
    service.clock.set(NOW)
    async with service.services.database.session() as session:
        assert await ensure_seed_tasks(session, PLAN_TASKS, now=NOW) > 8
        await session.commit()
    return service


def listed(reply: str) -> list[tuple[str, bool]]:
    return [(m.group(1), bool(m.group(3))) for m in TASK_LINE.finditer(reply)]


async def test_my_tasks_pages_and_marks_the_lead(plan: RunningService) -> None:
    wx = plan.wx
    await bind(plan, "o-eco", "市生态环境局", "赵")
    expected = await open_tasks(plan, "市生态环境局")
    assert len(expected) > 8, "the plan gives the bureau more than one page"
    pages = -(-len(expected) // 8)
    marks = [(v.id, v.leads("市生态环境局")) for v in expected]  # 牵头 only where the plan says so
    assert any(lead for _id, lead in marks) and not all(lead for _id, lead in marks)

    first = (await wx.send_text("o-eco", "我的任务")).content
    leads = sum(1 for _id, lead in marks if lead)
    assert first.startswith(f"市生态环境局的未完成任务（{len(expected)}项，其中牵头{leads}项")
    assert listed(first) == marks[:8]
    assert f"（第1/{pages}页）" in first and "发送“更多”或“我的任务 2”查看下一页" in first

    second = (await wx.send_text("o-eco", "更多")).content
    assert listed(second) == marks[8:16]
    assert f"（第2/{pages}页）" in second
    assert listed((await wx.send_text("o-eco", "我的任务 2")).content) == marks[8:16]
    assert listed((await wx.send_text("o-eco", "我的任务２")).content) == marks[8:16]  # full-width digit

    last = (await wx.send_text("o-eco", f"我的任务 {pages}")).content
    assert listed(last) == marks[(pages - 1) * 8 :] and "下一页" not in last
    no_page = (await wx.send_text("o-eco", "我的任务 99")).content
    assert no_page == texts.MY_TASKS_NO_PAGE.format(page=99, pages=pages)

    # 更多 only continues a list just shown: after something else it is not a task command.
    await wx.send_text("o-eco", "我的任务")
    assert "使用说明" in (await wx.send_text("o-eco", "帮助")).content
    assert listed((await wx.send_text("o-eco", "更多")).content) == []


async def test_done_usage_names_one_of_the_departments_tasks(plan: RunningService) -> None:
    wx = plan.wx
    await bind(plan, "o-agri", "市农业农村局", "李四")
    expected = await open_tasks(plan, "市农业农村局")
    usage = (await wx.send_text("o-agri", "完成")).content
    assert usage == texts.DONE_USAGE.format(example=expected[0].id, title=expected[0].title)
    reply = (await wx.send_text("o-agri", f"完成 {expected[0].id}")).content
    assert reply.startswith("已记录：市农业农村局完成了任务 " + expected[0].id)
