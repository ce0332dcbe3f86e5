"""Fixtures for the reminder tests: a migrated database, services with recording channels, a clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config
from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from tests.conftest import make_config
from tests.support.clock import FakeClock
from tests.unit.reminders.fakes import RecordingChannel


@pytest.fixture
def rclock() -> FakeClock:
    """09:30 in Shanghai on Monday 2025-12-01."""
    return FakeClock(datetime(2025, 12, 1, 1, 30, tzinfo=UTC))


@pytest.fixture
def rconfig(tmp_path: Path, db_url: str) -> Config:
    return make_config(tmp_path, db_url, YCBOT_REMINDERS_SEED_FILE="")


@pytest.fixture
async def db(rconfig: Config) -> AsyncIterator[Database]:
    database = Database(rconfig.storage.url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    yield database
    await database.dispose()


@pytest.fixture
def channels() -> dict[str, RecordingChannel]:
    return {"mp": RecordingChannel("mp"), "wecom": RecordingChannel("wecom")}


@pytest.fixture
def services(rconfig: Config, db: Database, channels: dict[str, RecordingChannel], rclock: FakeClock) -> Services:
    return Services(config=rconfig, database=db, channels=dict(channels), clock=rclock)
