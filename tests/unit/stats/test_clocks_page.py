"""The 办理时限 list, the clock on a case page, and extensions of a case's completion deadline."""

from __future__ import annotations

import re

from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff
from tests.unit.stats.known import seed_known_cases

ROW = re.compile(r'<tr class="(overdue|)">\s*<td data-label="案件"><a href="/console/reports/([^"]+)">')


async def test_open_cases_by_time_left_overdue_first(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    cases = await seed_known_cases(services)
    await make_staff(services, "boss", "市生态环境局", admin=True)
    client = await client_factory()
    await client.login("boss")
    status, html, _ = await client.get("/console/deadlines")
    assert status == 200
    rows = ROW.findall(html)
    assert [case for _flag, case in rows] == [cases["F"], cases["B"], cases["C"], cases["E"]]
    assert [flag for flag, _case in rows] == ["overdue", "overdue", "", ""]
    assert re.search(r'id="overdue-total">2<', html)
    assert "已超期 65 天" in html  # F: due at the end of 16 September
    assert "信访工作条例" in html


async def test_a_department_lists_only_its_cases(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    cases = await seed_known_cases(services)
    await make_staff(services, "agri", "市农业农村局")
    client = await client_factory()
    await client.login("agri")
    _status, html, _ = await client.get("/console/deadlines")
    assert [case for _flag, case in ROW.findall(html)] == [cases["E"]]


async def test_case_page_shows_the_clock_and_its_basis(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    cases = await seed_known_cases(services)
    await make_staff(services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    _status, html, _ = await client.get(f"/console/reports/{cases['B']}")
    clock = html.split('id="clock"', 1)[1].split("</section>", 1)[0]
    assert "受理决定：2026-11-16 前" in clock and "已超期 4 天" in clock
    assert "《信访工作条例》" in clock
    assert "延长办理期限" not in clock  # not accepted yet: nothing to extend


async def test_extension_moves_the_deadline_and_is_recorded(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    cases = await seed_known_cases(services)
    await make_staff(services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    path = f"/console/reports/{cases['C']}"
    await client.get(path)
    status, _html, _ = await client.post(f"{path}/extend", {"days": "20", "reason": "需委托检测机构出具报告"})
    assert status == 303
    _status, html, _ = await client.get(path)
    clock = html.split('id="clock"', 1)[1].split("</section>", 1)[0]
    assert "办结：2027-01-18 前" in clock  # 29 Dec + 20 days
    assert "延长 20 日，需委托检测机构出具报告" in clock
    assert "延长办理期限 20 日：需委托检测机构出具报告" in html  # the case history

    # Beyond the total of 30 days: refused, and what was typed is still there.
    status, html, _ = await client.post(f"{path}/extend", {"days": "11", "reason": "还需补充调查"})
    assert status == 400
    assert "延长合计不能超过 30 日（已延长 20 日）" in html
    assert "还需补充调查</textarea>" in html and 'value="11"' in html
    for bad, message in (({"days": "x", "reason": "r"}, "整数"), ({"days": "5", "reason": " "}, "理由")):
        status, html, _ = await client.post(f"{path}/extend", bad)
        assert status == 400 and message in html


async def test_only_the_handling_department_extends(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    cases = await seed_known_cases(services)
    await make_staff(services, "yh", "盐湖区政府")  # sees 盐湖区 cases, does not handle them
    await make_staff(services, "agri", "市农业农村局")
    county = await client_factory()
    await county.login("yh")
    path = f"/console/reports/{cases['C']}"
    status, _html, _ = await county.get(path)
    assert status == 200
    status, _html, _ = await county.post(f"{path}/extend", {"days": "5", "reason": "理由"})
    assert status == 403
    other = await client_factory()
    await other.login("agri")
    status, _html, _ = await other.post(f"{path}/extend", {"days": "5", "reason": "理由"})
    assert status == 404
    # A resolved case has no running clock to extend.
    await make_staff(services, "eco", "市生态环境局")
    eco = await client_factory()
    await eco.login("eco")
    await eco.get(f"/console/reports/{cases['A']}")
    status, html, _ = await eco.post(f"/console/reports/{cases['A']}/extend", {"days": "5", "reason": "理由"})
    assert status == 400 and "只有已受理、尚未办结的案件" in html
