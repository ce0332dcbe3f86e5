"""Queries for the customer-service windows: the 1-minute event window rows and a user's window state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WechatUser
from storage.models.notices import EventWindow

_WINDOWS = EventWindow.__table__
_UPSERT = {
    name: dialect.insert(_WINDOWS)
    .values(openid=bindparam("openid"), opened_at=bindparam("now"))
    .on_conflict_do_update(index_elements=["openid"], set_={"opened_at": bindparam("now")})
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}


async def open_event_window(session: AsyncSession, openid: str, now: datetime) -> None:
    """A CLICK, follow or scan: the 1-minute window starts (again) now."""
    dialect = session.get_bind().dialect.name
    await session.execute(_UPSERT[dialect], {"openid": openid, "now": now})


async def window_starts(session: AsyncSession, openid: str) -> tuple[datetime | None, datetime | None, bool]:
    """(last message, last window event, still following) of ``openid``."""
    row = (
        await session.execute(
            select(WechatUser.last_message_at, WechatUser.subscribed).where(WechatUser.openid == openid)
        )
    ).first()
    event_at = await session.scalar(select(EventWindow.opened_at).where(EventWindow.openid == openid))
    if row is None:
        return None, event_at, False
    return row[0], event_at, bool(row[1])


async def close_windows(session: AsyncSession, openid: str, *, before: datetime) -> None:
    """The sandbox's "time passes": the user's windows are dated ``before`` (the simulator's 窗口过期 tool)."""
    await session.execute(
        update(WechatUser)
        .where(WechatUser.openid == openid, WechatUser.last_message_at.is_not(None))
        .values(last_message_at=before)
    )
    await session.execute(update(EventWindow).where(EventWindow.openid == openid).values(opened_at=before))
