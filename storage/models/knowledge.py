"""Edits of the knowledge base made in the console, and the published knowledge versions.

A change is a new way of asking an existing entry (``phrasing``) or a new entry (``entry``). It starts as a
``draft``; an administrator publishes it (after the sealed evaluation batches allowed it) or rejects it.
Publishing adds a row to ``knowledge_versions``: the knowledge version number every process follows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class KnowledgeChange(Base):
    """``kind``: phrasing | entry; ``status``: draft | published | rejected. ``sources`` and
    ``paraphrases`` are one item per line. ``gate`` keeps the figures of the last publish attempt."""

    __tablename__ = "knowledge_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[str] = mapped_column(Text, default="")
    paraphrases: Mapped[str] = mapped_column(Text, default="")
    file: Mapped[str] = mapped_column(String(64), default="")
    group_key: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gate: Mapped[str] = mapped_column(Text, default="")


class KnowledgeVersion(Base):
    """One published knowledge version; the highest number is the live one. The primary key makes two
    publishes on the same base version collide: the second is refused and evaluated again."""

    __tablename__ = "knowledge_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    change_id: Mapped[int] = mapped_column(Integer)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
