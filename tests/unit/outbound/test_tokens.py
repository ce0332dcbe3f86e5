"""Access tokens: one fetch shared by every channel and process, refreshed ahead of expiry, no stampede."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest

from bot.outbound.channels.base import ChannelError
from bot.outbound.channels.tokens import CachedToken, DatabaseTokenCache, RedisTokenCache, TokenRefresher, token_name
from storage.db import Database
from storage.models import AccessToken
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi
from tests.unit.outbound.conftest import ChannelFactory, Sleeps

STABLE = "/cgi-bin/stable_token"
CUSTOM = "/cgi-bin/message/custom/send"


async def test_two_channels_share_one_token(database: Database, channels: ChannelFactory, fake_wechat: FakeWechatApi):
    first, second = channels.mp(database), channels.mp(database)
    await first.send_text("openid-1", "一")
    await second.send_text("openid-2", "二")
    assert fake_wechat.count(STABLE) == 1
    tokens = {call.query["access_token"] for call in fake_wechat.calls_to(CUSTOM)}
    assert len(tokens) == 1
    async with database.session() as session:
        row = await session.get(AccessToken, first.tokens.name)
    assert row is not None and row.token in tokens


async def test_concurrent_first_use_fetches_once(
    database: Database, channels: ChannelFactory, fake_wechat: FakeWechatApi
):
    # Separate channel instances stand for separate processes: only the database lease is shared.
    instances = [channels.mp(database) for _ in range(4)]
    await asyncio.gather(*(c.send_text(f"openid-{i}", "并发") for i, c in enumerate(instances)))
    assert fake_wechat.count(STABLE) == 1
    assert len(fake_wechat.delivered) == 4


async def test_stable_token_request_body(sqlite_database: Database, channels: ChannelFactory, fake_wechat):
    await channels.mp(sqlite_database).send_text("openid-1", "hi")
    (call,) = fake_wechat.calls_to(STABLE)
    assert call.method == "POST"
    assert call.body == {
        "grant_type": "client_credential",
        "appid": channels.config.wechat.app_id,
        "secret": channels.config.wechat.app_secret,
        "force_refresh": False,
    }
    assert "access_token" not in call.query


async def test_refreshed_a_few_minutes_before_expiry(
    database: Database, channels: ChannelFactory, fake_wechat: FakeWechatApi, clock: FakeClock
):
    channel = channels.mp(database)
    await channel.send_text("openid-1", "1")
    clock.advance(seconds=7200 - 6 * 60)  # 6 minutes left: still fresh
    await channel.send_text("openid-1", "2")
    assert fake_wechat.count(STABLE) == 1
    clock.advance(seconds=2 * 60)  # 4 minutes left: inside the 5-minute margin
    await channel.send_text("openid-1", "3")
    assert fake_wechat.count(STABLE) == 2
    async with database.session() as session:
        row = await session.get(AccessToken, channel.tokens.name)
    assert row is not None and row.expires_at == clock() + timedelta(seconds=7200)


async def test_other_channel_picks_up_a_refresh_done_elsewhere(
    database: Database, channels: ChannelFactory, fake_wechat: FakeWechatApi, clock: FakeClock
):
    first, second = channels.mp(database), channels.mp(database)
    await first.send_text("openid-1", "1")
    await second.send_text("openid-1", "2")
    clock.advance(seconds=7200 - 60)
    await first.send_text("openid-1", "3")  # refreshes
    await second.send_text("openid-1", "4")  # reads the refreshed token from the cache
    assert fake_wechat.count(STABLE) == 2


async def test_lease_held_elsewhere_old_token_still_used(sqlite_database: Database, clock: FakeClock):
    cache = DatabaseTokenCache(sqlite_database)
    name = token_name("mp", "wxlease")
    await cache.store(name, CachedToken("old-token", clock() + timedelta(minutes=3)), clock())
    assert await cache.acquire(name, "other-process", clock() + timedelta(seconds=60), clock())
    fetched: list[bool] = []

    async def fetch(force: bool) -> tuple[str, int]:
        fetched.append(force)
        return "new-token", 7200

    refresher = TokenRefresher(name, cache, fetch, clock=clock, sleep=Sleeps())
    assert await refresher.get() == "old-token"  # due for refresh, but another process is on it
    assert fetched == []


async def test_waits_for_the_refresh_of_another_process(sqlite_database: Database, clock: FakeClock):
    cache = DatabaseTokenCache(sqlite_database)
    name = token_name("mp", "wxwait")
    assert await cache.acquire(name, "other-process", clock() + timedelta(seconds=60), clock())

    async def other_process_finishes() -> None:
        await cache.store(name, CachedToken("theirs", clock() + timedelta(hours=2)), clock())
        await cache.release(name, "other-process")

    async def fetch(force: bool) -> tuple[str, int]:
        raise AssertionError("must not fetch while another process refreshes")

    sleeps = Sleeps(hook=other_process_finishes)
    refresher = TokenRefresher(name, cache, fetch, clock=clock, sleep=sleeps)
    assert await refresher.get() == "theirs"
    assert len(sleeps.delays) == 1


async def test_gives_up_when_the_other_refresh_never_finishes(sqlite_database: Database, clock: FakeClock):
    cache = DatabaseTokenCache(sqlite_database)
    name = token_name("mp", "wxstuck")
    assert await cache.acquire(name, "other-process", clock() + timedelta(seconds=60), clock())

    async def fetch(force: bool) -> tuple[str, int]:
        raise AssertionError("must not fetch while the lease is held")

    sleeps = Sleeps()
    refresher = TokenRefresher(name, cache, fetch, clock=clock, sleep=sleeps, poll_seconds=1.0)
    with pytest.raises(ChannelError) as caught:
        await refresher.get()
    assert not caught.value.permanent
    assert len(sleeps.delays) == 60  # bounded by the lease, never forever


async def test_expired_lease_is_taken_over(sqlite_database: Database, clock: FakeClock):
    cache = DatabaseTokenCache(sqlite_database)
    name = token_name("mp", "wxcrash")
    assert await cache.acquire(name, "crashed-process", clock() + timedelta(seconds=60), clock())
    clock.advance(seconds=61)

    async def fetch(force: bool) -> tuple[str, int]:
        return "fresh", 7200

    refresher = TokenRefresher(name, cache, fetch, clock=clock, sleep=Sleeps())
    assert await refresher.get() == "fresh"
    assert await cache.acquire(name, "next", clock() + timedelta(seconds=60), clock())  # lease was released


async def test_invalidate_keeps_a_token_fetched_elsewhere(sqlite_database: Database, clock: FakeClock):
    """A process holding a stale copy must not throw away the token another process already replaced it with."""
    cache = DatabaseTokenCache(sqlite_database)
    name = token_name("mp", "wxstale")
    await cache.store(name, CachedToken("current", clock() + timedelta(hours=2)), clock())

    async def fetch(force: bool) -> tuple[str, int]:
        raise AssertionError("the cache already has a good token")

    refresher = TokenRefresher(name, cache, fetch, clock=clock, sleep=Sleeps())
    assert await refresher.invalidate("stale-copy") == "current"
    assert await cache.load(name) == CachedToken("current", clock() + timedelta(hours=2))


def test_long_names_are_shortened():
    name = token_name("wecom", "w" * 80, 1000002)
    assert len(name) <= 48 and name.startswith("wecom:")
    assert name == token_name("wecom", "w" * 80, 1000002)
    with pytest.raises(ValueError):
        TokenRefresher("x" * 60, None, None, clock=FakeClock())  # type: ignore[arg-type]


async def test_database_outage_is_a_retryable_channel_error(tmp_path, clock: FakeClock):
    database = Database(f"sqlite:///{tmp_path}/never-migrated.db")  # no access_tokens table

    async def fetch(force: bool) -> tuple[str, int]:
        return "t", 7200

    refresher = TokenRefresher("mp:x", DatabaseTokenCache(database), fetch, clock=clock, sleep=Sleeps())
    try:
        with pytest.raises(ChannelError) as caught:
            await refresher.get()
        assert not caught.value.permanent
        assert "token cache unavailable" in str(caught.value)
    finally:
        await database.dispose()


# ---- Redis -----------------------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis_prefix():  # type: ignore[no-untyped-def]
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} does not answer ({type(exc).__name__}); Redis token cache test skipped")
    prefix = f"ycbot-test-{secrets.token_hex(4)}:"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_redis_cache_shares_one_token(
    redis_prefix: str, sqlite_database: Database, channels: ChannelFactory, fake_wechat: FakeWechatApi, clock
):
    caches = [RedisTokenCache(REDIS_URL, redis_prefix) for _ in range(2)]
    try:
        first = channels.mp(sqlite_database, cache=caches[0])
        second = channels.mp(sqlite_database, cache=caches[1])
        await asyncio.gather(first.send_text("openid-1", "一"), second.send_text("openid-2", "二"))
        assert fake_wechat.count(STABLE) == 1
        stored = await caches[0].load(first.tokens.name)
        assert stored is not None and stored.token in fake_wechat.valid_tokens()
        # Nothing went to the database cache.
        async with sqlite_database.session() as session:
            assert await session.get(AccessToken, first.tokens.name) is None
        # A token error on one channel: exactly one new token, which the other channel then uses.
        fake_wechat.expire_tokens()
        await first.send_text("openid-1", "三")
        await second.send_text("openid-2", "四")
        assert fake_wechat.count(STABLE) == 2
        assert len(fake_wechat.delivered) == 4
        # compare-and-delete: discarding a token that is no longer current changes nothing
        current = await caches[1].load(first.tokens.name)
        await caches[1].discard(first.tokens.name, "some-old-token")
        assert await caches[1].load(first.tokens.name) == current
    finally:
        for cache in caches:
            await cache.close()


async def test_redis_lease_is_exclusive(redis_prefix: str, clock: FakeClock):
    cache = RedisTokenCache(REDIS_URL, redis_prefix)
    try:
        until = clock() + timedelta(seconds=30)
        assert await cache.acquire("mp:lease", "a", until, clock())
        assert not await cache.acquire("mp:lease", "b", until, clock())
        await cache.release("mp:lease", "b")  # not the holder: no effect
        assert not await cache.acquire("mp:lease", "b", until, clock())
        await cache.release("mp:lease", "a")
        assert await cache.acquire("mp:lease", "b", until, clock())
    finally:
        await cache.close()
