"""Shared fixtures: configuration, databases (SQLite and PostgreSQL), the knowledge base, a running service."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.config import Config, load_config
from bot.outbound.channels.factory import build_channels
from bot.services import Services
from bot.wechat.push import PushSigner
from storage.db import Database
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import fake_wechat  # noqa: F401  (fixture: fake 公众号/WeCom API)
from tests.support.wx import WxClient

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get("YCBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    problem = _pg_available()
    if problem:
        pytest.skip(f"PostgreSQL at {PG_ADMIN_DSN} does not answer ({problem}); PostgreSQL tests skipped")
    import asyncpg

    name = f"ycbot_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pg_url(pg_server_url: str) -> AsyncIterator[str]:
    """The session database, emptied before each test."""
    import asyncpg

    dsn = pg_server_url
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    yield dsn


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/test.db"


def make_config(tmp_path: Path, db_url: str, **overrides: object) -> Config:
    env = {
        "YCBOT_STORAGE_URL": db_url,
        "YCBOT_STORAGE_MEDIA_DIR": str(tmp_path / "media"),
        "YCBOT_SCHEDULER_ENABLED": "false",
        # tests start with no tasks; test_startup_loads_the_plan_tasks covers the seeding
        "YCBOT_REMINDERS_SEED_FILE": "",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return load_config(PROJECT_ROOT / "config.example.toml", env=env)


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> Config:
    """The example configuration as an account in 兼容模式: every push mode is exercised against one server,
    so plaintext is allowed explicitly (the default with a key refuses it: see test_callback_security)."""
    return make_config(tmp_path, sqlite_url, YCBOT_WECHAT_REQUIRE_ENCRYPTION="false")


@pytest.fixture(scope="session")
def knowledge_base():  # type: ignore[no-untyped-def]
    from knowledge.answerer import load_knowledge_base

    return load_knowledge_base()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class RunningService:
    server: TestServer
    services: Services
    wx: WxClient
    clock: FakeClock

    @property
    def url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")

    @property
    def config(self) -> Config:
        return self.services.config


async def start_service(config: Config, knowledge_base, clock: FakeClock, platform=None) -> RunningService:  # type: ignore[no-untyped-def]
    """``platform``: a FakeWechatApi that sees every push first and posts delivery results back."""
    database = Database(config.storage.url)
    services = Services(
        config=config,
        database=database,
        channels=build_channels(config, database, clock),
        knowledge=knowledge_base,
        clock=clock,
    )
    server = TestServer(create_app(config, deps=services), host="127.0.0.1")
    await server.start_server()
    signer = PushSigner(config.wechat.token, config.wechat.encoding_aes_key, config.wechat.app_id)
    wx = WxClient(str(server.make_url("/")), signer, clock, platform=platform)
    if platform is not None:
        platform.clock = clock
        platform.push_events_to(wx.push_event)
    return RunningService(server=server, services=services, wx=wx, clock=clock)


async def stop_service(service: RunningService) -> None:
    if service.wx.platform is not None:  # delivery results still on their way back to this service
        await service.wx.platform.drain_pushes()
    await service.wx.close()
    await service.server.close()
    await service.services.database.dispose()


@pytest.fixture
async def service(config: Config, knowledge_base, clock: FakeClock) -> AsyncIterator[RunningService]:  # type: ignore[no-untyped-def]
    """The whole service on a loopback port, SQLite, sandbox channels, scheduler off."""
    running = await start_service(config, knowledge_base, clock)
    yield running
    await stop_service(running)


@pytest.fixture
def wx(service: RunningService) -> WxClient:
    return service.wx
