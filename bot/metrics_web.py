"""GET /metrics and the timing of WeChat pushes (an aiohttp middleware on POST /wechat)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import metrics
from bot.reminders.coverage import covered_until_iso
from bot.services import Services
from storage.queues import queue_depths

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup_metrics(app: web.Application, services: Services) -> None:
    if not services.config.metrics.enabled:
        return
    metrics.instrument_pool(services.database.engine.sync_engine, services.database.pool_capacity)

    async def scrape(request: web.Request) -> web.Response:
        token = services.config.metrics.token
        if not metrics.allowed(request.headers.get("Authorization", ""), request.remote, token):
            raise web.HTTPForbidden(
                text="metrics: send the [metrics] token as a Bearer token, or scrape from localhost"
            )
        async with services.database.session() as session:
            depths = await queue_depths(session)
        figures = metrics.DatabaseFigures(
            depths.outbox, depths.oldest_pending_age(services.now()), covered_until_iso(services)
        )
        body, content_type = metrics.render(figures)
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    app.router.add_get("/metrics", scrape)
    app.middlewares.append(time_pushes)


@web.middleware
async def time_pushes(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method != "POST" or request.path != "/wechat":
        return await handler(request)
    started = time.monotonic()
    metrics.reset_busy()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.push_answered(time.monotonic() - started, status, metrics.was_busy())
