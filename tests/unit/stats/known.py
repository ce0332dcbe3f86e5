"""A known set of cases with a known history, shared by the statistics and case-clock tests.

The test clock stands at 2026-11-20 02:00 UTC. Times are UTC; 02:00 UTC is 10:00 in Yuncheng.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.reports.workflow import change_status
from bot.services import Services
from tests.unit.console.helpers import seed_report


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, 0, tzinfo=UTC)


async def _move(services: Services, case_no: str, status: str, when: datetime) -> None:
    extra: dict[str, str] = {}
    if status == "resolved":
        extra = {"note": "已查处", "public_reply": "已责令整改，感谢监督。"}
    elif status == "rejected":
        extra = {"reason": "不属于本部门职责", "competent_authority": "市住建局"}
    elif status == "investigating":
        extra = {"note": "已派人核查"}
    async with services.database.session() as session:
        await change_status(session, services, case_no, status, actor="tester", now=when, **extra)
        await session.commit()


async def seed_known_cases(services: Services) -> dict[str, str]:
    """Six cases; returns their case numbers by letter.

    In November 2026: A (盐湖区, discharge) accepted after 1 day, resolved 7 days later; B (夏县, discharge)
    never decided, overdue since 17 Nov; D (no county, other) rejected after 1 day; E (夏县, pesticide, 市农业
    农村局) accepted after 1 day. Before: C (盐湖区, banned chemical, 10 Oct) accepted after 20 days, late;
    F (盐湖区, discharge, 1 Sep) never decided.
    """
    cases: dict[str, str] = {}
    plan = {
        "A": (
            "discharge",
            "盐湖区",
            at(11, 2),
            [("accepted", at(11, 3)), ("investigating", at(11, 5)), ("resolved", at(11, 10))],
        ),
        "B": ("discharge", "夏县", at(11, 1), []),
        "C": ("banned_chemical", "盐湖区", at(10, 10), [("accepted", at(10, 30)), ("investigating", at(10, 31))]),
        "D": ("other", None, at(11, 15), [("rejected", at(11, 16))]),
        "E": ("pesticide", "夏县", at(11, 18), [("accepted", at(11, 19))]),
        "F": ("discharge", "盐湖区", at(9, 1), []),
    }
    for index, (letter, (category, county, created, moves)) in enumerate(plan.items()):
        case_no = await seed_report(
            services,
            openid=f"o-stats-{letter}",
            category=category,
            county=county,
            latitude=None if county is None else 35.03 + index * 0.05,
            longitude=None if county is None else 110.98,
            address="运城市某地" if county is None else "山西省运城市某地",
            description=f"案件{letter}：河边工厂疑似偷排废水",
            at=created,
        )
        for status, when in moves:
            await _move(services, case_no, status, when)
        cases[letter] = case_no
    return cases
