"""A real outbox worker process for fault tests: ``python -m tests.support.outbox_runner CONFIG``.

It runs ``OutboxWorker.run_once`` in a loop (as the scheduler's ``outbox`` job does) until killed, and
prints one line per batch it handled, so a test can tell it is alive.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.config import load_config
from bot.outbound.channels.factory import build_services, close_channels
from bot.outbound.worker import OutboxWorker

IDLE_POLL_SECONDS = 0.05  # how often an idle worker looks for due rows


async def main(config_path: str) -> None:
    config = load_config(Path(config_path))
    services = build_services(config)
    worker = OutboxWorker(services)
    print("ready", flush=True)
    try:
        while True:
            handled = await worker.run_once()
            if handled:
                print(f"handled {handled}", flush=True)
            else:
                await asyncio.sleep(IDLE_POLL_SECONDS)
    finally:
        await close_channels(services.channels)
        await services.database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
