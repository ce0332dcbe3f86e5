"""Fixtures for the outbound tests: a migrated database, recorded (not real) backoff sleeps, channels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.config import Config
from bot.outbound.channels.http import RetryPolicy
from bot.outbound.channels.tokens import DatabaseTokenCache, TokenCache
from bot.outbound.channels.wechat_mp import WechatMpChannel
from bot.outbound.channels.wecom import WecomChannel
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import ensure_schema
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: records the delays and returns at once; ``hook`` runs on each call."""

    delays: list[float] = field(default_factory=list)
    hook: Callable[[], object] | None = None

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.hook is not None:
            result = self.hook()
            if hasattr(result, "__await__"):
                await result  # type: ignore[misc]


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(busy_tries=3, base_delay=0.5, factor=2.0, sleep=sleeps)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A migrated database on SQLite and on PostgreSQL."""
    db = Database(db_url)
    await ensure_schema(db)
    await seed_departments(db, duties().units)
    yield db
    await db.dispose()


@pytest.fixture
async def sqlite_database(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    await ensure_schema(db)
    await seed_departments(db, duties().units)
    yield db
    await db.dispose()


@pytest.fixture
def api_config(tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi) -> Config:
    return make_api_config(tmp_path, sqlite_url, fake_wechat)


@dataclass
class ChannelFactory:
    config: Config
    clock: FakeClock
    retry: RetryPolicy
    opened: list[WechatMpChannel | WecomChannel] = field(default_factory=list)

    def mp(self, database: Database, *, cache: TokenCache | None = None, **overrides: object) -> WechatMpChannel:
        values: dict = dict(
            app_id=self.config.wechat.app_id,
            app_secret=self.config.wechat.app_secret,
            api_base_url=self.config.wechat.api_base_url,
            timeout_seconds=5.0,
            cache=cache or DatabaseTokenCache(database),
            clock=self.clock,
            retry=self.retry,
        )
        values.update(overrides)
        channel = WechatMpChannel(**values)
        self.opened.append(channel)
        return channel

    def wecom(self, database: Database, **overrides: object) -> WecomChannel:
        values: dict = dict(
            corp_id=self.config.wecom.corp_id,
            secret=self.config.wecom.secret,
            agent_id=self.config.wecom.agent_id,
            api_base_url=self.config.wecom.api_base_url,
            timeout_seconds=5.0,
            cache=DatabaseTokenCache(database),
            default_url="https://example.org/tasks",
            clock=self.clock,
            retry=self.retry,
        )
        values.update(overrides)
        channel = WecomChannel(**values)
        self.opened.append(channel)
        return channel


@pytest.fixture
async def channels(api_config: Config, clock: FakeClock, retry: RetryPolicy) -> AsyncIterator[ChannelFactory]:
    """Builds channels pointing at the fake API and closes them after the test."""
    factory = ChannelFactory(api_config, clock, retry)
    yield factory
    for channel in factory.opened:
        await channel.close()


# Templates these tests send with, as the account would have added them in the admin.
TEST_TEMPLATES = {"TPL": ("thing1", "time2", "thing3", "thing4"), "TPL-1": ("thing1", "time2", "thing3", "thing4")}
# Users the channel-mechanics tests send to: followers who wrote to the account just now.
TEST_FOLLOWERS = (*(f"openid-{i}" for i in range(10)), "openid-x", "openid-w")


@pytest.fixture(autouse=True)
def wechat_side(request: pytest.FixtureRequest, clock: FakeClock) -> None:
    """What WeChat knows before these tests start: the templates, and (for the channel tests, not the
    worker's, which set each user up themselves) the followers and their open windows."""
    if "fake_wechat" not in request.fixturenames:
        return
    fake: FakeWechatApi = request.getfixturevalue("fake_wechat")
    fake.clock = clock
    for template_id, keys in TEST_TEMPLATES.items():
        fake.add_template(template_id, keys)
    if request.module.__name__.endswith(("test_api_calls", "test_tokens")):
        for openid in TEST_FOLLOWERS:
            fake.user_message(openid)
