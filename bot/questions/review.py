"""The questions that need attention, grouped: refused, low-confidence and 没用-rated ones.

Questions are grouped greedily by similarity of their normalized text (rapidfuzz ``ratio`` ≥
``SIMILARITY``), most frequent wording first, so a group's representative is its commonest wording.
Each group has its count, the count of the last seven days against the seven before (the trend), why
its questions are here, and the decision taken on it (out of scope), if any.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.questions.log import REFUSED_KINDS
from storage.models.questions import QuestionLog, QuestionTriage

QA_DEPARTMENT = "市生态环境局"
LOW_SCORE = 0.5
SIMILARITY = 72.0
MAX_QUESTIONS = 20000
KEY_CHARS = 200
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def may_review(staff: object) -> bool:
    """Admins and the 市生态环境局 accounts improve the answers."""
    return bool(getattr(staff, "is_admin", False)) or getattr(staff, "department", "") == QA_DEPARTMENT


def normalize_question(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())[:KEY_CHARS]


@dataclass
class QuestionGroup:
    key: str
    example: str
    count: int = 0
    recent: int = 0  # last 7 days
    before: int = 0  # the 7 days before
    reasons: Counter[str] = field(default_factory=Counter)
    wordings: Counter[str] = field(default_factory=Counter)
    decision: str = ""
    decided_by: str = ""

    @property
    def trend(self) -> int:
        return self.recent - self.before


def reasons_of(row: QuestionLog) -> list[str]:
    found = []
    if row.kind in REFUSED_KINDS:
        found.append("refused")
    elif row.kind == "partial" or (row.kind == "answer" and row.score < LOW_SCORE):
        found.append("low")
    if row.rating == "useless":
        found.append("useless")
    return found


async def groups_needing_attention(
    session: AsyncSession, *, since: datetime, now: datetime, include_decided: bool = False
) -> list[QuestionGroup]:
    stmt = (
        select(QuestionLog)
        .where(
            QuestionLog.asked_at >= since,
            or_(
                QuestionLog.kind.in_(sorted(REFUSED_KINDS | {"partial"})),
                (QuestionLog.kind == "answer") & (QuestionLog.score < LOW_SCORE),
                QuestionLog.rating == "useless",
            ),
        )
        .order_by(QuestionLog.asked_at.desc())
        .limit(MAX_QUESTIONS)
    )
    rows = [row for row in (await session.scalars(stmt)).all() if reasons_of(row)]
    by_text: dict[str, list[QuestionLog]] = {}
    for row in rows:
        by_text.setdefault(normalize_question(row.text), []).append(row)
    groups: list[QuestionGroup] = []
    for key, items in sorted(by_text.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if not key:
            continue
        group = next((g for g in groups if fuzz.ratio(key, g.key) >= SIMILARITY), None)
        if group is None:
            group = QuestionGroup(key=key, example=items[0].text)
            groups.append(group)
        for row in items:
            group.count += 1
            group.wordings[row.text] += 1
            group.reasons.update(reasons_of(row))
            asked = row.asked_at if row.asked_at.tzinfo else row.asked_at.replace(tzinfo=now.tzinfo)
            if asked >= now - timedelta(days=7):
                group.recent += 1
            elif asked >= now - timedelta(days=14):
                group.before += 1
    decisions = {
        t.key: t for t in (await session.scalars(select(QuestionTriage).where(
            QuestionTriage.key.in_([g.key for g in groups])))).all()
    }  # fmt: skip
    for group in groups:
        decided = decisions.get(group.key)
        if decided is not None:
            group.decision, group.decided_by = decided.decision, decided.actor
    if not include_decided:
        groups = [g for g in groups if not g.decision]
    return sorted(groups, key=lambda g: (-g.count, -g.recent, g.key))


async def mark_out_of_scope(session: AsyncSession, key: str, example: str, *, actor: str, now: datetime) -> bool:
    """Record that a group is beyond the knowledge base; False when it was already decided."""
    if await session.get(QuestionTriage, key) is not None:
        return False
    session.add(QuestionTriage(key=key, decision="out_of_scope", example=example[:500], actor=actor[:64], at=now))
    await session.flush()
    return True
