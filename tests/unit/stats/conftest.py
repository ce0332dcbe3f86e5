"""A running service for console tests (SQLite, sandbox channels) and logged-in clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import ConsoleClient


@pytest.fixture
async def console_service(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> AsyncIterator[RunningService]:
    """The whole app on a loopback port. The console needs no knowledge base, so none is loaded."""
    config = make_config(tmp_path, sqlite_url, YCBOT_CONSOLE_SECRET_KEY="test-console-key")
    running = await start_service(config, object(), clock)
    yield running
    await stop_service(running)


@pytest.fixture
async def client_factory(console_service: RunningService) -> AsyncIterator[Callable[[], Awaitable[ConsoleClient]]]:
    clients: list[ConsoleClient] = []

    async def make() -> ConsoleClient:
        client = ConsoleClient(console_service.url)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
