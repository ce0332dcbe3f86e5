"""A signed push URL is good for one body.

In plaintext mode WeChat's signature covers only (token, timestamp, nonce), not the body, so a captured
URL could carry another body (another openid) while its timestamp is fresh. WeChat's own retries repeat
the same body. So the first body seen with a (timestamp, nonce) pair is remembered for the freshness
window, and the pair is accepted again only with that body. The pairs live in the database, so every
process of the service shares them. Safe-mode pushes do not need it (their msg_signature covers the
encrypted message), so the callback asks only for plaintext ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database
from storage.models.notices import PushNonce

PRUNE_EVERY = 200  # admissions between two deletions of expired pairs (per process)
_NONCES = PushNonce.__table__
_REMEMBER = {
    name: dialect.insert(_NONCES)
    .values(
        timestamp=bindparam("timestamp"),
        nonce=bindparam("nonce"),
        body_sha256=bindparam("digest"),
        seen_at=bindparam("now"),
    )
    .on_conflict_do_nothing(index_elements=["timestamp", "nonce"])
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_DIGEST = select(_NONCES.c.body_sha256).where(
    _NONCES.c.timestamp == bindparam("timestamp"), _NONCES.c.nonce == bindparam("nonce")
)


class ReplayGuard:
    def __init__(self, database: Database, window_seconds: int, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.window = timedelta(seconds=max(1, window_seconds))
        self.clock = clock
        self._admitted = 0

    async def admit(self, timestamp: int, nonce: str, body: bytes) -> bool:
        """True for a new (timestamp, nonce) pair or a repeat with the identical body; False otherwise."""
        digest = hashlib.sha256(body).hexdigest()
        params = {"timestamp": timestamp, "nonce": nonce[:64], "digest": digest, "now": self.clock()}
        async with self.database.session() as session:
            result = await session.execute(_REMEMBER["sqlite" if self.database.is_sqlite else "postgresql"], params)
            if result.rowcount:
                await session.commit()
                await self._maybe_prune()
                return True
            seen = await session.scalar(_DIGEST, params)
        return seen == digest

    async def _maybe_prune(self) -> None:
        self._admitted += 1
        if self._admitted % PRUNE_EVERY:
            return
        cutoff = self.clock() - 2 * self.window
        async with self.database.session() as session:
            await session.execute(delete(PushNonce).where(PushNonce.seen_at < cutoff))
            await session.commit()
