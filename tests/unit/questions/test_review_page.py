"""The 问答改进 page: grouping, counts and trend, who may use it, marking a group out of scope."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage.models.console import AuditEntry
from storage.models.questions import QuestionLog
from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff

GROUP_ROW = re.compile(r'<td data-label="提问">([^<]+)</td>\s*<td data-label="次数" class="count">(\d+)</td>'
                       r'\s*<td data-label="近7天 / 前7天">(\d+) / (\d+)')  # fmt: skip


async def _seed(service: RunningService) -> None:
    now = service.services.now()
    rows = [
        ("明天运城会下雨吗", "refusal", 0.0, "", 1),
        ("明天运城会下雨吗？", "refusal", 0.0, "", 2),
        ("明天运城下雨吗", "refusal", 0.0, "", 9),
        ("新污染物治理方案的资金是多少", "partial", 0.4, "", 3),
        ("药店卖抗生素要处方吗", "answer", 0.9, "useless", 1),
        ("药店卖抗生素要处方吗", "answer", 0.9, "", 1),  # answered well: not listed on its own
        ("什么是新污染物", "answer", 0.95, "", 1),
    ]
    async with service.services.database.session() as db:
        for text, kind, score, rating, days_ago in rows:
            db.add(QuestionLog(asked_at=now - timedelta(days=days_ago), user_hash="u" * 64, text=text, kind=kind,
                               score=score, rating=rating))  # fmt: skip
        await db.commit()


async def test_groups_with_counts_and_trend(console_service: RunningService, client_factory) -> None:
    await _seed(console_service)
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    status, html, _ = await client.get("/console/questions")
    assert status == 200
    groups = {text: (int(n), int(recent), int(before)) for text, n, recent, before in GROUP_ROW.findall(html)}
    assert groups["明天运城会下雨吗"] == (3, 2, 1)  # three wordings grouped; two this week, one the week before
    assert groups["新污染物治理方案的资金是多少"] == (1, 1, 0)
    assert groups["药店卖抗生素要处方吗"] == (1, 1, 0)  # only the 没用-rated one
    assert "什么是新污染物" not in html
    assert "用户评为没用 1" in html and "未能回答 3" in html


async def test_marking_a_group_out_of_scope(console_service: RunningService, client_factory) -> None:
    await _seed(console_service)
    await make_staff(console_service.services, "boss", "市农业农村局", admin=True)
    client = await client_factory()
    await client.login("boss")
    _status, html, _ = await client.get("/console/questions")
    key = re.search(r'name="key" value="(明天运城会下雨吗)"', html)
    assert key is not None
    status, _text, _ = await client.post("/console/questions/out-of-scope", {"key": key.group(1), "example": "x"})
    assert status == 303
    _status, html, _ = await client.get("/console/questions")
    assert "明天运城会下雨吗" not in html and "已将这组提问标记为超出问答范围" in html
    _status, html, _ = await client.get("/console/questions?decided=1")
    assert "已标记为超出范围（boss）" in html
    async with console_service.services.database.session() as db:
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "question_out_of_scope"))
    assert audit is not None and audit.actor == "boss"
    status, html, _ = await client.post("/console/questions/out-of-scope", {"key": key.group(1)})
    assert status == 303
    status, html, _ = await client.post("/console/questions/out-of-scope", {"key": ""})
    assert status == 400


async def test_only_admins_and_the_ecology_bureau(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "agri", "市农业农村局")
    client = await client_factory()
    await client.login("agri")
    status, html, _ = await client.get("/console/questions")
    assert status == 403 and "仅限管理员和市生态环境局" in html
    assert 'href="/console/questions"' not in (await client.get("/console/reports"))[1]
    status, _html, _ = await client.post("/console/questions/out-of-scope", {"key": "a"})
    assert status == 403
    await make_staff(console_service.services, "eco", "市生态环境局")
    eco = await client_factory()
    await eco.login("eco")
    for bad in ("0", "x", "366"):
        status, _html, _ = await eco.get(f"/console/questions?days={bad}")
        assert status == 400
