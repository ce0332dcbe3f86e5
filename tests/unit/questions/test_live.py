"""A published new entry: a process that starts afterwards builds it in; two publishes on one base collide."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.questions import live, publish
from bot.questions.edits import create_change
from bot.questions.live import load_live_knowledge
from bot.services import Services
from knowledge.edits import ENTRY, PHRASING, Edit
from knowledge.loader import load_data
from storage.db import Database
from storage.migrate import upgrade
from storage.models.console import AuditEntry
from storage.models.knowledge import KnowledgeChange, KnowledgeVersion
from tests.conftest import make_config
from tests.unit.questions.test_publish import REFUSED, eval_dir

NOW = datetime(2026, 12, 5, 8, tzinfo=UTC)
NEW_ENTRY = Edit(ENTRY, "gen-cancer-risk", "新污染物和癌症到底有没有关系",
                 answer="部分新污染物具有致癌性，国家对其中风险较高的实施管控。", sources=("nap",),
                 paraphrases=("新污染物跟癌症有关联吗", "新污染物会引发肿瘤吗", "新污染物与癌症的关系"),
                 file="general.toml")  # fmt: skip


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path}/live.db")
    await upgrade(db)
    yield db
    await db.dispose()


async def _draft(database: Database, edit: Edit) -> int:
    async with database.session() as db:
        made = await create_change(db, load_data(), edit, group_key="", example="", actor="eco", now=NOW)
        assert not isinstance(made, list), made
        await db.commit()
        return made.id


async def test_a_process_started_later_builds_the_published_entry_in(database: Database, tmp_path: Path) -> None:
    change_id = await _draft(database, NEW_ENTRY)
    outcome = await publish.publish_change(database, change_id, actor="boss", now=NOW, eval_dir=eval_dir(tmp_path))
    assert outcome.status == publish.PUBLISHED_NOW and outcome.version == 1
    kb = await load_live_knowledge(database)  # what `serve` does at start-up
    assert kb.version == 1  # type: ignore[attr-defined]
    answer = kb.answer(NEW_ENTRY.question)
    assert (answer.kind, answer.entry_id) == ("answer", "gen-cancer-risk")
    assert "部分新污染物具有致癌性" in answer.text and "新污染物治理行动方案" in answer.text  # with its source


async def test_two_publishes_on_one_base_collide(database: Database, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    change_id = await _draft(database, Edit(PHRASING, "gen-why", REFUSED))
    path = str(tmp_path / "live.db")
    gate = publish._gate

    def meanwhile(*args: object) -> publish.PublishOutcome:
        outcome = gate(*args)  # type: ignore[arg-type]
        with sqlite3.connect(path) as other:  # another process published while this one was evaluating
            other.execute("INSERT INTO knowledge_versions (version, change_id, published_by, published_at) "
                          "VALUES (1, 99, 'other', '2026-12-05 08:00:00')")  # fmt: skip
        return outcome

    monkeypatch.setattr(publish, "_gate", meanwhile)
    outcome = await publish.publish_change(database, change_id, actor="boss", now=NOW, eval_dir=eval_dir(tmp_path))
    assert outcome.status == publish.CONFLICT
    async with database.session() as db:
        change = await db.get(KnowledgeChange, change_id)
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "knowledge_publish_refused"))
    assert change is not None and change.status == "draft" and change.version is None
    assert audit is not None and audit.detail["reason"] == "conflict" and audit.actor == "boss"


async def test_a_version_that_fails_to_build_is_not_rebuilt_on_every_look(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.session() as db:
        db.add(KnowledgeVersion(version=1, change_id=1, published_by="boss", published_at=NOW))
        await db.commit()
    builds: list[int] = []

    def broken(edits: object, version: int) -> object:
        builds.append(version)
        raise RuntimeError("data files broken")

    monkeypatch.setattr(live, "build_knowledge", broken)
    services = Services(config=make_config(tmp_path, "sqlite://"), database=database, knowledge=object())
    watcher = live.KnowledgeWatcher(services, 10)
    with pytest.raises(RuntimeError):
        await watcher.check()
    assert await watcher.check() is False and builds == [1]
    assert watcher.version == 0  # the knowledge base in use keeps answering
    async with database.session() as db:
        db.add(KnowledgeVersion(version=2, change_id=2, published_by="boss", published_at=NOW))
        await db.commit()
    with pytest.raises(RuntimeError):
        await watcher.check()
    assert builds == [1, 2]
