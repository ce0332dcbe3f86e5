"""问答改进 → changes: attaching a group to an entry, drafting a new entry, who may do what, the audit log.

Publishing (the gate and the live swap) is in test_publish.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models.console import AuditEntry
from storage.models.knowledge import KnowledgeChange
from storage.models.questions import QuestionLog, QuestionTriage
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import ConsoleClient, make_staff

REFUSED = "新污染物会不会让人得癌症"


@pytest.fixture
async def kb_service(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock
) -> AsyncIterator[RunningService]:
    config = make_config(tmp_path, sqlite_url, YCBOT_CONSOLE_SECRET_KEY="test-console-key")
    running = await start_service(config, knowledge_base, clock)
    yield running
    await stop_service(running)


@pytest.fixture
async def clients(kb_service: RunningService) -> AsyncIterator[dict[str, ConsoleClient]]:
    made: dict[str, ConsoleClient] = {}
    for name, department, admin in (("eco", "市生态环境局", False), ("boss", "市农业农村局", True),
                                    ("agri", "市农业农村局", False)):  # fmt: skip
        await make_staff(kb_service.services, name, department, admin=admin)
        made[name] = ConsoleClient(kb_service.url)
        assert await made[name].login(name) == 303
    yield made
    for client in made.values():
        await client.close()


async def _ask(service: RunningService, question: str = REFUSED) -> None:
    reply = await service.wx.send_text("o-asker", question)
    assert "不能确定" in reply.content  # refused today


async def _changes(service: RunningService) -> list[KnowledgeChange]:
    async with service.services.database.session() as db:
        return list((await db.scalars(select(KnowledgeChange).order_by(KnowledgeChange.id))).all())


async def test_attach_a_refused_group_to_an_entry(kb_service: RunningService,
                                                  clients: dict[str, ConsoleClient]) -> None:
    await _ask(kb_service)
    eco = clients["eco"]
    status, html, _ = await eco.get("/console/questions")
    assert status == 200 and REFUSED in html
    key = re.search(r'action="/console/questions/attach".*?name="key" value="([^"]+)"', html, re.S)
    assert key is not None
    assert '<option value="gen-why">' in html  # every entry can be chosen
    status, _html, _ = await eco.post("/console/questions/attach",
                                      {"key": key.group(1), "example": REFUSED, "entry_id": "gen-why"})  # fmt: skip
    assert status == 303
    (change,) = await _changes(kb_service)
    assert (change.kind, change.status, change.entry_id, change.question) == ("phrasing", "draft", "gen-why", REFUSED)
    assert change.created_by == "eco"
    _status, html, _ = await eco.get("/console/questions")
    assert "已加为条目的新问法" not in html and REFUSED not in html  # decided: it left the list
    _status, html, _ = await eco.get("/console/questions/changes")
    assert f'id="change-{change.id}"' in html and "待管理员审核" in html and "检验并发布" not in html
    async with kb_service.services.database.session() as db:
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "knowledge_drafted"))
        assert (await db.get(QuestionTriage, key.group(1))) is not None
    assert audit is not None and audit.actor == "eco" and audit.detail["entry"] == "gen-why" and audit.at is not None


async def test_attach_is_checked(kb_service: RunningService, clients: dict[str, ConsoleClient]) -> None:
    eco = clients["eco"]
    await eco.get("/console/questions")
    status, html, _ = await eco.post("/console/questions/attach", {"key": "k", "example": "x", "entry_id": "no-such"})
    assert status == 400 and "没有编号为 no-such 的条目" in html
    status, html, _ = await eco.post("/console/questions/attach",
                                     {"key": "k", "example": "什么是新污染物？", "entry_id": "gen-why"})  # fmt: skip
    assert status == 400 and "已经是条目 gen-what 的问法" in html
    assert await _changes(kb_service) == []


async def test_draft_a_new_entry_needs_a_source(kb_service: RunningService, clients: dict[str, ConsoleClient]) -> None:
    eco = clients["eco"]
    status, html, _ = await eco.get(f"/console/questions/draft?key=k1&example={REFUSED}&wording=新污染物致癌吗")
    assert status == 200 and f'value="{REFUSED}"' in html and "新污染物致癌吗" in html
    form = {"key": "k1", "example": REFUSED, "entry_id": "gen-cancer", "question": REFUSED,
            "paraphrases": "新污染物致癌吗\n新污染物对身体有害吗\n新污染物伤不伤人",
            "answer": "新污染物可能带来健康风险。",
            "sources": "", "file": "general.toml"}  # fmt: skip
    status, html, _ = await eco.post("/console/questions/draft", form)
    assert status == 400 and "必须写明依据" in html and "新污染物伤不伤人" in html  # the form comes back filled in
    status, html, _ = await eco.post("/console/questions/draft", {**form, "sources": "nosuch"})
    assert status == 400 and "依据“nosuch”不在来源表" in html
    few = {**form, "paraphrases": "新污染物致癌吗", "sources": "nap"}
    status, html, _ = await eco.post("/console/questions/draft", few)
    assert status == 400 and "至少还要写 3 种问法" in html
    assert await _changes(kb_service) == []
    status, _html, _ = await eco.post("/console/questions/draft", {**form, "sources": "nap"})
    assert status == 303
    (change,) = await _changes(kb_service)
    assert (change.kind, change.entry_id, change.sources, change.file) == ("entry", "gen-cancer", "nap", "general.toml")


async def test_scoping(kb_service: RunningService, clients: dict[str, ConsoleClient]) -> None:
    agri, eco = clients["agri"], clients["eco"]
    for path in ("/console/questions/changes", "/console/questions/draft"):
        status, html, _ = await agri.get(path)
        assert status == 403 and "仅限管理员和市生态环境局" in html
    for path in ("/console/questions/attach", "/console/questions/draft"):
        status, _html, _ = await agri.post(path, {"key": "k", "example": REFUSED, "entry_id": "gen-why"})
        assert status == 403
    await eco.get("/console/questions")
    await eco.post("/console/questions/attach", {"key": "k", "example": REFUSED, "entry_id": "gen-why"})
    (change,) = await _changes(kb_service)
    for action in ("publish", "reject"):
        status, html, _ = await eco.post(f"/console/questions/changes/{change.id}/{action}")
        assert status == 403
        status, _html, _ = await agri.post(f"/console/questions/changes/{change.id}/{action}")
        assert status == 403
    assert (await _changes(kb_service))[0].status == "draft"
    status, _html, _ = await eco.post(f"/console/questions/changes/{change.id}/publish", csrf=False)
    assert status == 403  # CSRF


async def test_rejecting_a_draft_lists_its_group_again(kb_service: RunningService,
                                                       clients: dict[str, ConsoleClient]) -> None:
    await _ask(kb_service)
    eco, boss = clients["eco"], clients["boss"]
    _status, html, _ = await eco.get("/console/questions")
    key = re.search(r'name="key" value="([^"]+)"', html)
    assert key is not None
    await eco.post("/console/questions/attach", {"key": key.group(1), "example": REFUSED, "entry_id": "gen-why"})
    (change,) = await _changes(kb_service)
    _status, html, _ = await boss.get("/console/questions/changes")
    assert "检验并发布" in html and "退回" in html
    status, _html, _ = await boss.post(f"/console/questions/changes/{change.id}/reject")
    assert status == 303
    (change,) = await _changes(kb_service)
    assert change.status == "rejected" and change.decided_by == "boss" and change.decided_at is not None
    _status, html, _ = await eco.get("/console/questions")
    assert REFUSED in html
    async with kb_service.services.database.session() as db:
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "knowledge_rejected"))
        logged = await db.scalar(select(QuestionLog))
    assert audit is not None and audit.actor == "boss"
    assert logged is not None and logged.kind == "refusal"
