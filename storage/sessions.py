"""Console sessions ended by log-out, refused server-side until they would have expired anyway."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RevokedSession


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def revoke_session(session: AsyncSession, token: str, *, expires_at: datetime) -> None:
    """End the session identified by ``token`` (its random per-session value)."""
    key = session_hash(token)
    if await session.get(RevokedSession, key) is None:
        session.add(RevokedSession(session_hash=key, expires_at=expires_at))


async def is_revoked(session: AsyncSession, token: str) -> bool:
    return await session.get(RevokedSession, session_hash(token)) is not None

