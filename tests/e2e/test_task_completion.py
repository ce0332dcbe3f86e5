"""A task completed in the chat is the same truth everywhere, for the same cycle.

The plan's real tasks at 2026-12-04: T237 (yearly, due 12-31, 市农业农村局 leads, 16 units) is overdue for
2025 and open for 2026. The bureau's contact sends 完成 T237; then 我的任务, the console's task list and
page, the task export and the audit log all show the 2025 cycle done by that contact, at that time.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from bot.reminders.dispatch import run_pass
from bot.reminders.ladder import Ladder
from storage.contacts import contact_for_openid
from storage.models.reminders import ReminderDelivery
from tests.conftest import RunningService
from tests.e2e.test_officials_chat import NOW, bind, plan  # noqa: F401  (the plan fixture)
from tests.unit.console.helpers import ConsoleClient, make_staff

AGRI = "市农业农村局"
LOCAL_DONE = "2026-12-04 10:00"  # NOW in Yuncheng, as the console shows it


def row_with(html: str, *needles: str) -> str:
    """The table row (<tr>…</tr>) that contains every needle."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    found = [r for r in rows if all(n in r for n in needles)]
    assert len(found) == 1, (needles, len(found))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[0])).strip()


async def sent_reminders(service: RunningService, department_name: str, period: str) -> int:
    from storage.contacts import resolve_department

    async with service.services.database.session() as session:
        unit = await resolve_department(session, department_name)
        return int(
            await session.scalar(
                select(func.count()).where(
                    ReminderDelivery.task_id == "T237",
                    ReminderDelivery.department_id == unit.id,
                    ReminderDelivery.period == period,
                    ReminderDelivery.status == "sent",
                )
            )
            or 0
        )


async def test_a_task_completed_in_chat_shows_everywhere_for_its_cycle(plan: RunningService) -> None:  # noqa: F811
    service, wx = plan, plan.wx
    # Contacts bound on the last day before NOW when the 2025 cycle's overdue reminder was due, and that
    # day's reminders sent (the ladder slows down after a while, so it is not every day).
    ladder = Ladder.from_config(service.config.reminders)
    day = NOW.astimezone(ladder.tz).date() - timedelta(days=1)
    while ladder.kind_on(date(2025, 12, 31), day) != "overdue":
        day -= timedelta(days=1)
    service.clock.set(datetime.combine(day, time(10), ladder.tz).astimezone(UTC))
    await bind(service, "o-agri", AGRI, "李四")
    await bind(service, "o-yanhu", "盐湖区", "王五")
    await run_pass(service.services, service.clock())
    service.clock.set(NOW)
    agri_sent = await sent_reminders(service, AGRI, "2025")
    assert agri_sent >= 1 and await sent_reminders(service, "盐湖区政府", "2025") >= 1
    async with service.services.database.session() as session:
        contact_id = (await contact_for_openid(session, "o-agri")).id
    actor = f"李四（联络人#{contact_id}）"

    before = (await wx.send_text("o-agri", "我的任务 1")).content
    assert re.search(r"T237｜强化农药使用管理\n  2025年度 截止2025年12月31日｜已逾期\d+个工作日", before)

    reply = (await wx.send_text("o-agri", "完成 T237")).content
    assert reply.startswith(f"已记录：{AGRI}完成了任务 T237“强化农药使用管理”（2025年度），登记人{actor}")

    pages = [(await wx.send_text("o-agri", f"我的任务 {n}")).content for n in (1, 2, 3)]
    line = next(p for p in pages if "T237｜" in p)
    expected = (
        r"T237｜强化农药使用管理\n"  # the plan names no lead: 按职责分工负责, no 【牵头】
        r"  2026年度 截止2026年12月31日｜还剩\d+个工作日（2025年度已于2026年12月4日完成）"
    )
    assert re.search(expected, line), line

    await make_staff(service.services, "boss", "市生态环境局", admin=True)
    await make_staff(service.services, "agri", AGRI)
    admin = ConsoleClient(service.url)
    officer = ConsoleClient(service.url)
    try:
        assert await admin.login("boss") == 303
        _status, listing, _ = await admin.get("/console/tasks")
        row = row_with(listing, 'href="/console/tasks/T237"')
        assert "1 / 16" in row and "2025年度" in row and "已逾期" in row

        _status, page, _ = await admin.get("/console/tasks/T237")
        assert "各部门完成情况（2025年度，截止 2025-12-31）" in page
        units = page[page.index('id="departments"') : page.index('id="completions"')]
        agri_row = row_with(units, f'data-label="部门">{AGRI}<')
        assert f"已完成 {LOCAL_DONE} {actor} 微信 {agri_sent} / 0" in agri_row
        assert "已逾期" in row_with(units, 'data-label="部门">盐湖区政府<')
        history = page[page.index('id="completions"') : page.index("提醒记录")]
        assert f"2025年度 {AGRI} {LOCAL_DONE} {actor} 微信" in row_with(history, "2025年度")

        _status, _text, response = await admin.get("/console/tasks/export.csv")
        rows = list(csv.DictReader(io.StringIO(response.body_bytes.decode("utf-8-sig"))))
        mine = next(r for r in rows if r["任务编号"] == "T237" and r["部门"] == f"{AGRI}（按职责分工负责）")
        assert (mine["周期"], mine["状态"], mine["记录人"]) == ("2025年度", "已完成", actor)
        assert mine["完成时间"].startswith(LOCAL_DONE)
        assert mine["本部门已发提醒"] == str(agri_sent)
        county = next(r for r in rows if r["任务编号"] == "T237" and r["部门"] == "盐湖区政府（属地落实）")
        assert (county["周期"], county["状态"], county["完成时间"]) == ("2025年度", "已逾期", "")
        assert county["本部门已发提醒"] == str(await sent_reminders(service, "盐湖区政府", "2025"))
        zone = next(r for r in rows if r["任务编号"] == "T237" and r["部门"] == "运城开发区管委会（属地落实）")
        assert zone["本部门已发提醒"] == "0"  # nobody is bound there: no reminders, not the task's total

        _status, audit, _ = await admin.get("/console/audit?action=task_done")
        entry = row_with(audit, "T237")
        assert entry.startswith(f"{LOCAL_DONE}:") and actor in entry
        assert f"任务 T237｜{AGRI}｜2025年度｜经微信" in entry

        # The bureau's own account: its current cycle is 2026, and it sees that it finished 2025.
        assert await officer.login("agri") == 303
        _status, listing, _ = await officer.get("/console/tasks")
        row = row_with(listing, 'href="/console/tasks/T237"')
        assert "2026年度" in row and "进行中" in row
        _status, page, _ = await officer.get("/console/tasks/T237")
        assert "本部门市农业农村局已完成2025年度；当前周期：2026年度，截止 2026-12-31，进行中。" in page
        assert "记录为已完成（2026年度，市农业农村局）" in page
    finally:
        await admin.close()
        await officer.close()
