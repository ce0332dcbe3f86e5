"""The per-message context handed to every handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import ConversationState
from bot.services import Services
from bot.wechat.messages import Incoming


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

    @property
    def openid(self) -> str:
        return self.incoming.openid

    @property
    def text(self) -> str:
        return self.incoming.text

    @property
    def state(self) -> str | None:
        return self.conversation.state
