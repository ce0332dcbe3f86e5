"""The per-message context handed to every handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import ConversationState
from bot.services import Services
from bot.wechat.messages import Incoming


@dataclass(frozen=True)
class QuestionAsked:
    """A free-text question and the reply it got, for the question log. The pipeline writes it in the push's
    transaction (on either path), so a question handler needs no database session of its own."""

    question: str
    answer: Any  # knowledge.answerer.Answer: kind, matched, score, entry_id


@dataclass
class Context:
    """One incoming message: the message, its transaction, the user's conversation and the services.

    Handlers write through ``session`` and never commit: the pipeline commits the handler's writes,
    the conversation state and the dedup record together.
    """

    incoming: Incoming
    session: AsyncSession
    conversation: ConversationState
    services: Services
    now: datetime
    asked: list[QuestionAsked] = field(default_factory=list)

    @property
    def openid(self) -> str:
        return self.incoming.openid

    @property
    def text(self) -> str:
        return self.incoming.text

    @property
    def state(self) -> str | None:
        return self.conversation.state
