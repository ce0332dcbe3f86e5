"""Conversation state, loaded at the start of a message's transaction and saved in the same one.

Read and written with prepared Core statements (one SELECT, at most one write): this runs on every push.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation

_TABLE = Conversation.__table__
_LOAD = select(_TABLE.c.state, _TABLE.c.data, _TABLE.c.updated_at, _TABLE.c.expires_at).where(
    _TABLE.c.openid == bindparam("openid")
)
_WHERE = _TABLE.c.openid == bindparam("key")  # "openid" is taken by the column in UPDATE … SET
_TOUCH = update(_TABLE).where(_WHERE).values(updated_at=bindparam("updated_at"), expires_at=bindparam("expires_at"))
_WRITE = (
    update(_TABLE)
    .where(_WHERE)
    .values(
        state=bindparam("state"),
        data=bindparam("data"),
        updated_at=bindparam("updated_at"),
        expires_at=bindparam("expires_at"),
    )
)


def _upsert(dialect: Any) -> Any:
    stmt = dialect.insert(_TABLE).values(
        openid=bindparam("openid"),
        state=bindparam("state"),
        data=bindparam("data"),
        updated_at=bindparam("updated_at"),
        expires_at=bindparam("expires_at"),
    )
    changed = ("state", "data", "updated_at", "expires_at")
    return stmt.on_conflict_do_update(index_elements=["openid"], set_={c: stmt.excluded[c] for c in changed})


_UPSERT = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


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
        self._exists = False
        self._dirty = False

    @classmethod
    async def load(cls, session: AsyncSession, openid: str, now: datetime, default_ttl: timedelta) -> ConversationState:
        row = (await session.execute(_LOAD, {"openid": openid})).first()
        return cls.from_row(openid, now, default_ttl, row)

    @classmethod
    def from_row(cls, openid: str, now: datetime, default_ttl: timedelta, row: Any) -> ConversationState:
        """The state from its stored row (``state``, ``data``, ``updated_at``, ``expires_at``; None: no row)."""
        conv = cls(openid, now, default_ttl)
        conv._exists = row is not None
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

    def pending_write(self) -> tuple[str, dict[str, Any]] | None:
        """What saving must write: ("touch" | "write" | "insert", values keyed by column), or None."""
        if not self._dirty:
            if self._exists and self.state is not None:
                return "touch", {"updated_at": self.now, "expires_at": self.now + self._ttl}
            return None
        if not self._exists and self.state is None:
            return None
        values = {
            "state": self.state,
            "data": dict(self.data),
            "updated_at": self.now,
            "expires_at": self.now + self._ttl if self.state else None,
        }
        return ("write" if self._exists else "insert"), values

    def saved(self) -> None:
        """The pending write was made (by ``save`` or by the caller's own statement)."""
        self._exists, self._dirty = True, False

    async def save(self, session: AsyncSession) -> None:
        """Write the state through the caller's session; the caller commits."""
        pending = self.pending_write()
        if pending is None:
            return
        kind, values = pending
        if kind == "touch":
            await session.execute(_TOUCH, {"key": self.openid, **values})
            return
        if kind == "write":
            await session.execute(_WRITE, {"key": self.openid, **values})
        else:
            await session.execute(_UPSERT[session.get_bind().dialect.name], {"openid": self.openid, **values})
        self.saved()
