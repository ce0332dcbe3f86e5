"""Access tokens: one refresher per token name, cached where every process of the service sees it.

The cache is the ``access_tokens`` table, or Redis when ``[redis] url`` is set. A token is refreshed
``margin`` (5 minutes) before it expires. Three guards keep concurrent refreshes from stampeding:

1. a per-process ``asyncio.Lock`` in each refresher;
2. a cross-process lease: an entry ``<name>#refresh`` claimed by compare-and-set (a row in
   ``access_tokens``, or ``SET NX PX`` in Redis); only the holder calls WeChat, the others keep using the
   still-valid old token or poll the cache until the new one appears;
3. the cache is re-read after the lease is taken, so a refresh finished elsewhere is not repeated.

After a token error (40001/40014/42001) ``invalidate`` deletes the rejected token only if the cache
still holds it (compare-and-delete): a process holding a stale copy then picks up the token another
process already fetched instead of fetching again. The 公众号 fetch uses /cgi-bin/stable_token, which
does not invalidate the tokens other processes hold; ``force_refresh`` is used only when the normal
fetch hands back the very token WeChat just rejected.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.outbound.channels.base import ChannelError
from storage.db import Database
from storage.models import AccessToken

if TYPE_CHECKING:
    from bot.config import Config

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
# ``fetch(force_refresh)`` → (access token, lifetime in seconds), raising ChannelError on failure.
TokenFetcher = Callable[[bool], Awaitable[tuple[str, int]]]

MAX_NAME = 48  # leaves room for the "#refresh" suffix within access_tokens.name (64)
LOCK_SUFFIX = "#refresh"


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: datetime


class TokenCache(Protocol):
    """Where tokens are shared between processes."""

    async def load(self, name: str) -> CachedToken | None: ...

    async def store(self, name: str, cached: CachedToken, now: datetime) -> None: ...

    async def discard(self, name: str, token: str) -> None:
        """Delete the entry only if it still holds ``token``."""
        ...

    async def acquire(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        """Claim the refresh lease for ``name`` until ``until``; False when another holder has it."""
        ...

    async def release(self, name: str, holder: str) -> None: ...

    async def close(self) -> None: ...


def token_name(kind: str, *parts: object) -> str:
    """A cache key such as ``mp:wx123…``; long ids are shortened by hashing so the key always fits."""
    name = ":".join([kind, *(str(p) for p in parts)])
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
        name = f"{kind[:16]}:{digest}"
    return name


class TokenRefresher:
    """Hands out a valid token for ``name``, fetching a new one through ``fetch`` only when needed."""

    def __init__(
        self,
        name: str,
        cache: TokenCache,
        fetch: TokenFetcher,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        margin: timedelta = timedelta(minutes=5),
        lease: timedelta = timedelta(seconds=60),
        poll_seconds: float = 0.25,
    ) -> None:
        if len(name) > MAX_NAME:
            raise ValueError(f"token name {name!r} is longer than {MAX_NAME} characters; use token_name()")
        self.name = name
        self.cache = cache
        self._fetch = fetch
        self._clock = clock
        self._sleep = sleep
        self.margin = margin
        self.lease = lease
        self.poll_seconds = poll_seconds
        self._lock = asyncio.Lock()
        self._memory: CachedToken | None = None
        self.fetch_count = 0  # tokens fetched from the API by this refresher (for tests and logs)

    def _fresh(self, cached: CachedToken | None, now: datetime, rejected: str | None = None) -> bool:
        return cached is not None and cached.token != rejected and cached.expires_at - self.margin > now

    def _usable(self, cached: CachedToken | None, now: datetime, rejected: str | None) -> bool:
        """Still valid, though due for refresh: fine to use while another process refreshes it."""
        return cached is not None and cached.token != rejected and cached.expires_at > now + timedelta(seconds=30)

    async def get(self) -> str:
        if self._fresh(self._memory, self._clock()):
            assert self._memory is not None
            return self._memory.token
        async with self._lock:
            return await self._refresh(rejected=None)

    async def invalidate(self, rejected: str) -> str:
        """WeChat refused ``rejected``: drop it (if nobody replaced it yet) and return a valid token."""
        async with self._lock:
            if self._memory is not None and self._memory.token == rejected:
                self._memory = None
            await self._guard(self.cache.discard(self.name, rejected))
            return await self._refresh(rejected=rejected)

    async def _refresh(self, rejected: str | None) -> str:
        holder = secrets.token_hex(8)
        waited = 0.0
        while True:
            now = self._clock()
            cached = await self._guard(self.cache.load(self.name))
            if self._fresh(cached, now, rejected):
                return self._remember(cached)
            if await self._guard(self.cache.acquire(self.name, holder, now + self.lease, now)):
                try:
                    cached = await self._guard(self.cache.load(self.name))
                    if self._fresh(cached, now, rejected):
                        return self._remember(cached)
                    fetched = await self._fetch_new(rejected)
                    await self._guard(self.cache.store(self.name, fetched, self._clock()))
                    return self._remember(fetched)
                finally:
                    await self._guard(self.cache.release(self.name, holder))
            if self._usable(cached, now, rejected):
                assert cached is not None
                return cached.token  # another process is refreshing; the old token still works
            if waited >= self.lease.total_seconds():
                raise ChannelError(f"token {self.name}: another process holds the refresh and no token came")
            await self._sleep(self.poll_seconds)
            waited += self.poll_seconds

    def _remember(self, cached: CachedToken | None) -> str:
        assert cached is not None
        self._memory = cached
        return cached.token

    async def _fetch_new(self, rejected: str | None) -> CachedToken:
        token, lifetime = await self._fetch(False)
        if rejected is not None and token == rejected:
            token, lifetime = await self._fetch(True)  # the normal fetch returned the token just refused
        if not token:
            raise ChannelError(f"token {self.name}: the API returned an empty access_token")
        self.fetch_count += 1
        lifetime = max(60, min(int(lifetime), 7 * 24 * 3600))
        return CachedToken(token=token, expires_at=self._clock() + timedelta(seconds=lifetime))

    async def _guard(self, awaitable: Awaitable[Any]) -> Any:
        """Cache failures (database or Redis down) become retryable channel errors."""
        try:
            return await awaitable
        except ChannelError:
            raise
        except Exception as exc:
            raise ChannelError(f"token cache unavailable: {type(exc).__name__}: {exc}"[:300]) from exc


class DatabaseTokenCache:
    """Tokens in ``access_tokens``; the refresh lease is a row named ``<name>#refresh``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def _insert(self, session: Any) -> Any:
        dialect = session.get_bind().dialect.name
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def load(self, name: str) -> CachedToken | None:
        async with self.database.session() as session:
            row = await session.get(AccessToken, name)
            return None if row is None else CachedToken(row.token, row.expires_at)

    async def store(self, name: str, cached: CachedToken, now: datetime) -> None:
        async with self.database.session() as session:
            insert = self._insert(session)
            stmt = insert(AccessToken).values(
                name=name, token=cached.token, expires_at=cached.expires_at, updated_at=now
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["name"],
                set_={"token": cached.token, "expires_at": cached.expires_at, "updated_at": now},
            )
            await session.execute(stmt)
            await session.commit()

    async def discard(self, name: str, token: str) -> None:
        async with self.database.session() as session:
            await session.execute(delete(AccessToken).where(AccessToken.name == name, AccessToken.token == token))
            await session.commit()

    async def acquire(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        lock = name + LOCK_SUFFIX
        async with self.database.session() as session:
            insert = self._insert(session)
            stmt = insert(AccessToken).values(name=lock, token=holder, expires_at=until, updated_at=now)
            result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            if result.rowcount != 1:  # a lease row exists: take it over only if it has run out
                result = await session.execute(
                    update(AccessToken)
                    .where(AccessToken.name == lock, AccessToken.expires_at <= now)
                    .values(token=holder, expires_at=until, updated_at=now)
                )
            await session.commit()
            return result.rowcount == 1

    async def release(self, name: str, holder: str) -> None:
        async with self.database.session() as session:
            await session.execute(
                delete(AccessToken).where(AccessToken.name == name + LOCK_SUFFIX, AccessToken.token == holder)
            )
            await session.commit()

    async def close(self) -> None:
        """The database belongs to the services; nothing to close here."""


_COMPARE_AND_DELETE_TOKEN = """
local value = redis.call('GET', KEYS[1])
if value then
  local ok, decoded = pcall(cjson.decode, value)
  if (not ok) or decoded['token'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
end
return 0
"""
_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisTokenCache:
    """Tokens as JSON under ``<prefix>token:<name>``; the lease is ``SET NX PX`` on ``…#refresh``."""

    def __init__(self, url: str, prefix: str = "ycbot:", *, timeout_seconds: float = 5.0) -> None:
        import redis.asyncio as redis

        self.prefix = prefix
        self.client = redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds, decode_responses=True
        )

    def _key(self, name: str) -> str:
        return f"{self.prefix}token:{name}"

    async def load(self, name: str) -> CachedToken | None:
        value = await self.client.get(self._key(name))
        if not value:
            return None
        try:
            data = json.loads(value)
            return CachedToken(str(data["token"]), datetime.fromisoformat(data["expires_at"]).astimezone(UTC))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable entry: treated as missing and overwritten by the next refresh

    async def store(self, name: str, cached: CachedToken, now: datetime) -> None:
        value = json.dumps({"token": cached.token, "expires_at": cached.expires_at.isoformat()})
        ttl_ms = max(int((cached.expires_at - now).total_seconds() * 1000), 1000)
        await self.client.set(self._key(name), value, px=ttl_ms)

    async def discard(self, name: str, token: str) -> None:
        await self.client.eval(_COMPARE_AND_DELETE_TOKEN, 1, self._key(name), token)

    async def acquire(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        lease_ms = max(int((until - now).total_seconds() * 1000), 1000)
        return bool(await self.client.set(self._key(name + LOCK_SUFFIX), holder, nx=True, px=lease_ms))

    async def release(self, name: str, holder: str) -> None:
        await self.client.eval(_COMPARE_AND_DELETE, 1, self._key(name + LOCK_SUFFIX), holder)

    async def close(self) -> None:
        await self.client.aclose()


def build_token_cache(config: Config, database: Database) -> TokenCache:
    """Redis when ``[redis] url`` is set, else the database."""
    if config.redis.url:
        return RedisTokenCache(config.redis.url, config.redis.key_prefix)
    return DatabaseTokenCache(database)
