"""Conversation state, loaded at the start of a message's transaction and saved in the same one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


class ConversationState:
    """Where the user is in a dialog. States are named values such as ``report:location``."""

    def __init__(self, openid: str, now: datetime, default_ttl: timedelta) -> None:
        self.openid = openid
        self.now = now
        self.default_ttl = default_ttl
        self.state: str | None = None
        self.data: dict[str, Any] = {}
        self.expired_state: str | None = None
        self.expired_data: dict[str, Any] = {}
        self._ttl = default_ttl
        self._row: Conversation | None = None
        self._dirty = False

    @classmethod
    async def load(
        cls, session: AsyncSession, openid: str, now: datetime, default_ttl: timedelta
    ) -> ConversationState:
        conv = cls(openid, now, default_ttl)
        row = await session.get(Conversation, openid)
        conv._row = row
        if row is not None and row.state:
            if row.expires_at is not None and row.expires_at <= now:
                conv.expired_state, conv.expired_data = row.state, dict(row.data or {})
                conv._dirty = True
            else:
                conv.state, conv.data = row.state, dict(row.data or {})
                if row.expires_at is not None and row.updated_at is not None:
                    conv._ttl = row.expires_at - row.updated_at  # the ttl the dialog chose
        return conv

    def in_state(self, prefix: str) -> bool:
        """True when the state is ``prefix`` or lies under it (``report`` matches ``report:photos``)."""
        return self.state is not None and (self.state == prefix or self.state.startswith(prefix + ":"))

    def set(self, state: str, *, ttl: timedelta | None = None, **data: Any) -> None:
        """Enter ``state``, keeping the data gathered so far and adding ``data``."""
        self.state = state
        self.data.update(data)
        if ttl is not None:
            self._ttl = ttl
        self._dirty = True

    def update(self, **data: Any) -> None:
        self.data.update(data)
        self._dirty = True

    def clear(self) -> None:
        self.state = None
        self.data = {}
        self._ttl = self.default_ttl
        self._dirty = True

    async def save(self, session: AsyncSession) -> None:
        """Write the state through the caller's session; the caller commits."""
        if not self._dirty:
            if self._row is not None and self.state is not None:
                self._row.updated_at = self.now
                self._row.expires_at = self.now + self._ttl
            return
        row = self._row or await session.get(Conversation, self.openid)
        if row is None:
            if self.state is None:
                return
            row = Conversation(openid=self.openid)
            session.add(row)
        row.state = self.state
        row.data = dict(self.data)
        row.updated_at = self.now
        row.expires_at = self.now + self._ttl if self.state else None
