"""Recording questions, follow-ups and ratings in the question log (written in the message's transaction).

The user is identified only by ``HMAC-SHA256(salt, openid)``; the salt is the database secret
``question-log`` (generated once, shared by every process, cached per process).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import QuestionAsked
from storage.hotpath import QuestionRow
from storage.models.questions import QuestionLog
from storage.staff import console_secret

SALT_NAME = "question-log"
MAX_TEXT = 500
ASKED_AGAIN_WITHIN = timedelta(minutes=10)
RATING_WITHIN = timedelta(minutes=30)
# The answerer's older kinds, in the words of the reply kinds (answer | partial | refusal | …).
KIND_ALIASES = {"unsure": "refusal", "empty": "refusal"}
REFUSED_KINDS = frozenset({"refusal"})

_salts: dict[str, str] = {}


@lru_cache(maxsize=8192)
def hash_openid(salt: str, openid: str) -> str:
    """The question log's name for a user: ``HMAC-SHA256(salt, openid)`` (kept for the users asking now)."""
    return hmac.new(salt.encode(), openid.encode(), hashlib.sha256).hexdigest()


async def user_hash(session: AsyncSession, openid: str) -> str:
    key = str(session.get_bind().url)
    salt = _salts.get(key)
    if salt is None:
        salt = await console_secret(session, SALT_NAME)
        _salts[key] = salt
    return hash_openid(salt, openid)


def cached_salt(database_url: Any) -> str | None:
    """The salt when this process has read it already (keyed by the database engine's URL), else None."""
    return _salts.get(str(database_url))


async def read_salt(session: AsyncSession) -> None:
    """Read (or create) the salt once per process, so the reply path can hash without the database.
    The caller commits."""
    await user_hash(session, "")


def question_row(who: str, asked: QuestionAsked, now: datetime) -> QuestionRow:
    """The row the reply path writes for ``asked`` (see ``storage.hotpath``)."""
    answer = asked.answer
    return QuestionRow(
        asked_at=now,
        user_hash=who,
        text=asked.question.strip()[:MAX_TEXT],
        kind=reply_kind(answer),
        matched=bool(getattr(answer, "matched", False)),
        score=float(getattr(answer, "score", 0.0) or 0.0),
        entry_id=getattr(answer, "entry_id", None),
        again_since=now - ASKED_AGAIN_WITHIN,
    )


def reply_kind(answer: Any) -> str:
    kind = str(getattr(answer, "kind", "") or "refusal")
    return KIND_ALIASES.get(kind, kind)


async def _latest(session: AsyncSession, who: str, since: datetime) -> QuestionLog | None:
    stmt = (
        select(QuestionLog)
        .where(QuestionLog.user_hash == who, QuestionLog.asked_at >= since)
        .order_by(QuestionLog.asked_at.desc(), QuestionLog.id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


async def record_question(session: AsyncSession, openid: str, asked: QuestionAsked, *, now: datetime) -> QuestionLog:
    """Log a free-text question and its reply through the session (the pipeline's full path); the user's
    previous question within ten minutes that had no follow-up counts as asked again."""
    row = question_row(await user_hash(session, openid), asked, now)
    previous = await _latest(session, row.user_hash, row.again_since)
    if previous is not None and not previous.follow_up:
        previous.follow_up = "asked_again"
    entry = QuestionLog(
        asked_at=row.asked_at,
        user_hash=row.user_hash,
        text=row.text,
        kind=row.kind,
        matched=row.matched,
        score=row.score,
        entry_id=row.entry_id,
    )
    session.add(entry)
    return entry


async def record_pick(session: AsyncSession | None, openid: str, *, now: datetime) -> None:
    """The user picked one of the suggested questions after their last question."""
    if session is None:
        return
    who = await user_hash(session, openid)
    previous = await _latest(session, who, now - RATING_WITHIN)
    if previous is not None and previous.follow_up != "picked":
        await session.execute(update(QuestionLog).where(QuestionLog.id == previous.id).values(follow_up="picked"))


async def rate_last(session: AsyncSession | None, openid: str, useful: bool, *, now: datetime) -> bool:
    """Record 有用 / 没用 on the user's latest question (within 30 minutes); False when there is none."""
    if session is None:
        return False
    who = await user_hash(session, openid)
    previous = await _latest(session, who, now - RATING_WITHIN)
    if previous is None:
        return False
    previous.rating = "useful" if useful else "useless"
    previous.rated_at = now
    return True
