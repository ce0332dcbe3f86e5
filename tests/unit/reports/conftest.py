"""Services on a migrated database (SQLite and PostgreSQL via ``db_url``) for the reports tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from tests.conftest import make_config
from tests.support.clock import FakeClock


@pytest.fixture
async def services(tmp_path: Path, db_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    config = make_config(tmp_path, db_url)
    database = Database(config.storage.url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    yield Services(config=config, database=database, clock=clock)
    await database.dispose()
