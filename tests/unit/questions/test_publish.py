"""Publishing a drafted change: the sealed batches gate it, the live knowledge base is swapped without a restart
(in the publishing service at once, in another service at its next look), stale cached answers drop."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.questions.live import WATCHER
from storage.models.console import AuditEntry
from storage.models.knowledge import KnowledgeChange, KnowledgeVersion
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import ConsoleClient, make_staff

REFUSED = "新污染物会不会让人得癌症"
# A small sealed batch of our own (the project's sealed batches gate the real service: see the e2e test).
SEALED = (
    "# a sealed batch for the publish tests\n"
    "answer\t2023\tplain\t运城的新污染物治理方案是哪年印发的\n"
    "answer\t12369\tplain\t怎么举报环境违法\n"
    "refuse\t\tofftopic\t明天运城会下雨吗\n"
    "refuse\t\tofftopic\t推荐一家火锅店\n"
)


def eval_dir(tmp_path: Path, sealed: bool = True) -> Path:
    folder = tmp_path / "eval"
    folder.mkdir(exist_ok=True)
    header = "" if sealed else "# status: tuning\n"
    (folder / "blind_v99.tsv").write_text(header + SEALED, encoding="utf-8")
    return folder


@pytest.fixture
async def services_pair(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock
) -> AsyncIterator[list[RunningService]]:
    """Two services on one database, both starting with the data files' knowledge base."""
    config = make_config(tmp_path, sqlite_url, YCBOT_CONSOLE_SECRET_KEY="test-console-key",
                         YCBOT_KNOWLEDGE_EVAL_DIR=str(eval_dir(tmp_path)))  # fmt: skip
    running = [await start_service(config, knowledge_base, clock) for _ in range(2)]
    yield running
    for service in running:
        await stop_service(service)


async def _client(service: RunningService, name: str, department: str, admin: bool) -> ConsoleClient:
    await make_staff(service.services, name, department, admin=admin)
    client = ConsoleClient(service.url)
    assert await client.login(name) == 303
    return client


async def _draft_attach(service: RunningService, eco: ConsoleClient) -> int:
    reply = await service.wx.send_text("o-asker", REFUSED)
    assert "不能确定" in reply.content
    _status, html, _ = await eco.get("/console/questions")
    key = re.search(r'action="/console/questions/attach".*?name="key" value="([^"]+)"', html, re.S)
    assert key is not None
    status, _html, _ = await eco.post("/console/questions/attach",
                                      {"key": key.group(1), "example": REFUSED, "entry_id": "gen-why"})  # fmt: skip
    assert status == 303
    async with service.services.database.session() as db:
        return int(await db.scalar(select(func.max(KnowledgeChange.id))) or 0)


async def test_a_published_phrasing_answers_in_every_service(services_pair: list[RunningService],
                                                             knowledge_base) -> None:  # type: ignore[no-untyped-def]
    first, second = services_pair
    eco = await _client(first, "eco", "市生态环境局", False)
    boss = await _client(first, "boss", "市农业农村局", True)
    try:
        change_id = await _draft_attach(first, eco)
        assert "不能确定" in (await second.wx.send_text("o-other", REFUSED)).content  # cached in both, refused
        status, _html, _ = await boss.post(f"/console/questions/changes/{change_id}/publish")
        assert status == 303
        _status, html, _ = await boss.get("/console/questions/changes")
        assert "已发布，知识版本 1" in html and '<strong id="knowledge-version">1</strong>' in html
    finally:
        await eco.close()
        await boss.close()
    why = knowledge_base.entries["gen-why"].answer[:30]
    assert first.services.knowledge.version == 1  # the candidate the gate evaluated is live here at once
    assert why in (await first.wx.send_text("o-asker", REFUSED)).content
    # the other service still answers from version 0 until it looks, then rebuilds and swaps
    watcher = second.services.extras[WATCHER]
    assert await watcher.check() is True
    assert second.services.knowledge.version == 1 and second.services.knowledge is not knowledge_base
    assert why in (await second.wx.send_text("o-other", REFUSED)).content
    assert await watcher.check() is False
    assert knowledge_base.answer(REFUSED).kind == "refusal"  # nothing was changed in place
    async with first.services.database.session() as db:
        change = await db.get(KnowledgeChange, change_id)
        version = await db.get(KnowledgeVersion, 1)
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "knowledge_published"))
    assert change is not None and (change.status, change.version, change.decided_by) == ("published", 1, "boss")
    assert "blind_v99: 100.0% (2/2) / 100.0% (2/2) → 100.0% (2/2) / 100.0% (2/2)" in change.gate
    assert version is not None and version.published_by == "boss" and version.change_id == change_id
    assert audit is not None and audit.actor == "boss" and audit.detail["version"] == 1


async def test_a_change_that_lowers_a_sealed_figure_is_refused(services_pair: list[RunningService]) -> None:
    first, _second = services_pair
    boss = await _client(first, "boss", "市生态环境局", True)
    try:
        await boss.get("/console/questions")
        # an out-of-scope question attached to an entry: it would be answered instead of refused
        harmful = {"key": "", "example": "明天运城会下雨吗", "entry_id": "gen-what"}
        status, html, _ = await boss.post("/console/questions/attach", harmful)
        assert status == 303, html
        async with first.services.database.session() as db:
            change_id = int(await db.scalar(select(func.max(KnowledgeChange.id))) or 0)
        status, _html, _ = await boss.post(f"/console/questions/changes/{change_id}/publish")
        assert status == 303
        _status, html, _ = await boss.get("/console/questions/changes")
    finally:
        await boss.close()
    assert "发布被拒绝" in html
    assert "blind_v99: 100.0% (2/2) / 100.0% (2/2) → 100.0% (2/2) / 50.0% (1/2) ↓" in html
    assert version_of(first) == 0
    assert "不在我能解答的范围" in (await first.wx.send_text("o-asker", "明天运城会下雨吗")).content
    async with first.services.database.session() as db:
        change = await db.get(KnowledgeChange, change_id)
        versions = await db.scalar(select(func.count()).select_from(KnowledgeVersion))
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "knowledge_publish_refused"))
    assert change is not None and change.status == "draft" and "→ 100.0% (2/2) / 50.0% (1/2)" in change.gate
    assert versions == 0
    assert audit is not None and audit.actor == "boss" and audit.detail["lowered"] == ["blind_v99"]


def version_of(service: RunningService) -> int:
    return int(getattr(service.services.knowledge, "version", 0) or 0)


async def test_no_sealed_batch_no_publish(tmp_path: Path, sqlite_url: str, knowledge_base, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, sqlite_url, YCBOT_CONSOLE_SECRET_KEY="test-console-key",
                         YCBOT_KNOWLEDGE_EVAL_DIR=str(eval_dir(tmp_path, sealed=False)))  # fmt: skip
    service = await start_service(config, knowledge_base, clock)
    eco = await _client(service, "eco", "市生态环境局", True)
    try:
        change_id = await _draft_attach(service, eco)
        await eco.post(f"/console/questions/changes/{change_id}/publish")
        _status, html, _ = await eco.get("/console/questions/changes")
        assert "找不到封存评测批次" in html
        assert version_of(service) == 0
    finally:
        await eco.close()
        await stop_service(service)
