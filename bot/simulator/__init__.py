"""The sandbox simulator: a phone-like chat page at /simulator that plays WeChat for a person in a browser.

Every action becomes a real signed (and, with an EncodingAESKey, encrypted) push posted to the service's
own /wechat; the page then shows the passive reply and every message the sandbox channels recorded for
that user. Mounted by ``bot.app`` only while the sandbox channel is in use.
"""

from __future__ import annotations

from aiohttp import web

from bot.services import SERVICES
from bot.simulator.driver import SimulatorDriver
from bot.simulator.views import DRIVER, add_routes


def setup_simulator(app: web.Application) -> None:
    services = app[SERVICES]
    app[DRIVER] = SimulatorDriver(services.config, services.now)
    add_routes(app)

    async def close(app: web.Application) -> None:
        await app[DRIVER].close()

    app.on_cleanup.append(close)
