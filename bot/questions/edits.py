"""Drafting knowledge changes from question groups, and reading what has been published.

A reviewer (admin or 市生态环境局) attaches a group of questions to an entry as a new way of asking, or drafts
a new entry; either is a ``draft`` until an administrator publishes (``bot.questions.publish``) or rejects
it. The group is then decided (it leaves the list); a rejected draft's group comes back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.edits import ENTRY, PHRASING, Edit, edit_problems
from knowledge.entries import entry_files
from knowledge.loader import KnowledgeData
from storage.models.knowledge import KnowledgeChange, KnowledgeVersion
from storage.models.questions import QuestionTriage

DRAFT, PUBLISHED, REJECTED = "draft", "published", "rejected"
DECISIONS = {PHRASING: "attached", ENTRY: "drafted"}


def lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def file_names(data: KnowledgeData) -> list[str]:
    """The entry data files a new entry can be exported to (``general.toml`` …)."""
    return [p.name for p in entry_files(data.data_dir)]


def as_edit(change: KnowledgeChange) -> Edit:
    return Edit(
        kind=change.kind,
        entry_id=change.entry_id,
        question=change.question,
        answer=change.answer,
        sources=lines(change.sources),
        paraphrases=lines(change.paraphrases),
        file=change.file,
    )


async def current_version(session: AsyncSession) -> int:
    """The live knowledge version: 0 before anything was published."""
    return int(await session.scalar(select(func.max(KnowledgeVersion.version))) or 0)


async def published_edits(session: AsyncSession) -> tuple[int, list[Edit]]:
    """The live version and the edits it is made of, in the order they were published."""
    version = await current_version(session)
    rows = await session.scalars(
        select(KnowledgeChange)
        .where(KnowledgeChange.status == PUBLISHED, KnowledgeChange.version <= version)
        .order_by(KnowledgeChange.version, KnowledgeChange.id)
    )
    return version, [as_edit(c) for c in rows.all()]


async def create_change(
    session: AsyncSession,
    data: KnowledgeData,
    edit: Edit,
    *,
    group_key: str,
    example: str,
    actor: str,
    now: datetime,
) -> KnowledgeChange | list[str]:
    """A new draft, or the problems that prevent it (checked against the live knowledge ``data``)."""
    problems = edit_problems(data, edit, file_names(data) if edit.kind == ENTRY else ())
    if problems:
        return problems
    change = KnowledgeChange(
        kind=edit.kind,
        status=DRAFT,
        entry_id=edit.entry_id,
        question=edit.question.strip(),
        answer=edit.answer.strip(),
        sources="\n".join(edit.sources),
        paraphrases="\n".join(edit.paraphrases),
        file=edit.file,
        group_key=group_key[:200],
        created_by=actor[:64],
        created_at=now,
        decided_by="",
        gate="",
    )
    session.add(change)
    if group_key and await session.get(QuestionTriage, group_key[:200]) is None:
        session.add(QuestionTriage(key=group_key[:200], decision=DECISIONS[edit.kind], example=example[:500],
                                   actor=actor[:64], at=now))  # fmt: skip
    await session.flush()
    return change


async def changes(session: AsyncSession, status: str | None = None, limit: int = 200) -> list[KnowledgeChange]:
    stmt = select(KnowledgeChange).order_by(KnowledgeChange.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(KnowledgeChange.status == status)
    return list((await session.scalars(stmt)).all())


async def reject_change(session: AsyncSession, change_id: int, *, actor: str, now: datetime) -> KnowledgeChange | None:
    """Reject a draft (None when it is not a draft); its question group is listed again."""
    change = await session.get(KnowledgeChange, change_id)
    if change is None or change.status != DRAFT:
        return None
    change.status, change.decided_by, change.decided_at = REJECTED, actor[:64], now
    if change.group_key:
        await session.execute(delete(QuestionTriage).where(
            QuestionTriage.key == change.group_key, QuestionTriage.decision == DECISIONS[change.kind]))  # fmt: skip
    await session.flush()
    return change
